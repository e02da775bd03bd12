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
