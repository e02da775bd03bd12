"""Authentication primitives: password hashing, API and join tokens, and the agent link's proof of possession."""
