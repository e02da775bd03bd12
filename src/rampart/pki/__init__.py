"""Rampart's own public key infrastructure: the certificate authority, server TLS files and TLS contexts.

`ca` issues and verifies certificates, `keys` holds the key types agents may use, `files` writes
secrets to disk safely, `tlsfiles` prepares the server's TLS files at start and `tlsconfig` builds
TLS 1.2+ contexts.
"""
