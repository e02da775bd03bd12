"""The one error tree: every error rampart raises on purpose derives from RampartError.

Each carries a one-line human message; the CLI prints it and exits with the class's
exit code, showing a traceback only with ``--verbose``.
"""

from __future__ import annotations


class RampartError(Exception):
    """Base of every error rampart means to report to a user."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(RampartError):
    """The user asked for something that cannot be done as asked."""


class TargetError(RampartError):
    """The scan target cannot be read at all (missing, not a directory, ...)."""


class ParseError(RampartError):
    """A file's content is not what its format requires; becomes a per-file error in a scan."""


class LimitExceeded(ParseError):
    """Input larger than rampart is willing to read (file size, record count, nesting)."""


class DatabaseError(RampartError):
    """The advisory database is missing, unreadable or of an unknown schema."""


class DatabaseMissing(DatabaseError):
    """No advisory database exists yet in the cache directory."""


class UpdateError(DatabaseError):
    """Fetching or verifying advisory data failed; the previous database stays in place."""


class IgnoreFileError(RampartError):
    """The ignore file is malformed."""


class SpoolError(RampartError):
    """The agent's result spool cannot be used as asked (locked, bad settings, newer schema)."""


class SpoolFull(SpoolError):
    """Adding an item would exceed the spool's item or byte bound; nothing was dropped."""


class SpoolCorrupt(SpoolError):
    """The spool file is not a readable rampart spool; move it aside and start a new one."""


class PayloadTooLarge(SpoolError):
    """One result is larger than the spool's per-item cap."""


class AuditError(RampartError):
    """An audit event or log breaks the audit rules (bad field, secret in details, unwritable log)."""


class AnchorSignatureError(AuditError):
    """A signed audit anchor does not verify with the given public key."""


class ServerConfigError(RampartError):
    """The server cannot start as configured (data directory, database URL, TLS files, listen address)."""


class EnrollmentError(RampartError):
    """An agent could not enroll: bad or used join token, CA pin mismatch, server refusal."""


class AgentLinkError(RampartError):
    """The agent's link to the server failed (refused, revoked, protocol error)."""


class PkiError(RampartError):
    """The certificate authority, a certificate or a key file cannot be used (missing, corrupt, unsafe mode)."""


class CertificateRejected(PkiError):
    """A certificate or signing request presented by a peer fails verification; the message says which check."""


class IdentityError(RampartError):
    """The agent's saved identity is missing, corrupt or stored with permissions that are too open."""


class PasswordPolicyError(RampartError):
    """A new password does not meet the password policy; the message says which rule."""


class TokenFormatError(RampartError):
    """A presented token is not well formed; the message never repeats the token."""


class ScopeError(RampartError):
    """Requested token scopes are unknown or exceed what the user's roles allow."""


class PolicyError(RampartError):
    """An authorization policy or schema file is malformed or fails validation; the message names the policy."""


class ClientError(RampartError):
    """The API client cannot reach or trust the server, or has no usable login (one line, no secrets)."""


class ApiError(ClientError):
    """The server answered a request with an error status; the message carries its one-line detail."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class InventoryError(RampartError):
    """An uploaded inventory result is not a valid rampart.inventory/1 document."""


class LinkError(RampartError):
    """The agent link cannot be used as asked (bad channel settings, ids exhausted, ...)."""


class LinkClosed(LinkError):
    """The link is closed (locally, by the peer, or the connection was lost); the message says why."""


class LinkProtocolError(LinkError):
    """The peer broke the link protocol: malformed frame, data beyond credit, oversize message."""


class ChannelClosed(LinkError):
    """One channel of the link is closed or was refused; the link itself may still be up."""


class ChannelEOF(ChannelClosed):
    """The peer finished sending on this channel; no further message will arrive."""


class AgentRevoked(AgentLinkError):
    """The server revoked (or no longer knows) this host: the agent must enroll again."""


class SessionError(RampartError):
    """An access session cannot go on as asked; the message says why."""


class SessionProtocolError(SessionError):
    """The peer of a session stream broke the record protocol (bad record, bad resume offsets)."""


class RecordingError(RampartError):
    """A session recording cannot be written or read as asked (bad settings, malformed content)."""


class RecordingStoreError(RecordingError):
    """The recording blob store cannot be used right now (bad URL, unwritable, backend failure)."""


class RecordingTampered(RecordingError):
    """A stored recording fails verification (broken chain, bad signature); the message says where."""


class RecordingNotFound(RecordingStoreError):
    """The blob store holds no such blob, or no recording for the asked session."""


class SessionRefused(SessionError):
    """The agent will not start an access session as asked (bad or unknown login, root, bad path or target)."""


class SessionProcessError(SessionError):
    """A session's process could not be started or driven (exec failure, pty error); one line, no secrets."""


# fim


class FimError(RampartError):
    """File integrity monitoring could not do what was asked (bad paths, unreadable key, ...).

    Exit status 16: scripts tell "could not check" apart from the change bits 1, 2, 4 and 8.
    """

    exit_code = 16


class PolicyFileError(FimError):
    """A fim policy file is malformed; the message names the place."""


class BaselineRefused(FimError):
    """A baseline failed verification (edited, truncated, swapped or signed by another key): never used."""
