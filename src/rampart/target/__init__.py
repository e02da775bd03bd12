"""Read-only filesystem views of scan targets: the live host, or a directory holding a root filesystem."""
