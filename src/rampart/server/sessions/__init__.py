"""Access sessions on the server: what was authorized, the live relay between client and agent,
its recording, and the broker that holds every live session of this process."""
