"""The audit log core: event types and codes, the hash chain and its verification, and file sinks.

Storage-independent: `events` owns the event shape and redaction, `codec` the canonical bytes,
`chain` hashing and verification, `signing` Ed25519 anchors, `lines` and `sinks` the JSON-lines file.
"""
