"""Audit event shape, the explicit table of event codes, and redaction of secret-looking details.

An `AuditEvent` validates itself on construction: a known action code, a known outcome, a UTC
time, flat JSON-safe details, and no unmasked value under a secret-looking key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rampart.errors import AuditError

DetailValue = str | int | bool | None

REDACTED = "[REDACTED]"
MAX_TEXT = 1024
MAX_DETAIL_TEXT = 4096
MAX_DETAILS = 64
_INT64 = 1 << 63
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DETAIL_KEY = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "key", "credential", "cookie")
_SECRET_EXACT = frozenset({"pwd", "authorization", "auth", "otp", "pin", "signature", "session"})

EVENT_TYPES: Mapping[str, str] = {
    "auth.login.success": "a user logged in",
    "auth.login.failure": "a login attempt failed",
    "auth.logout": "a user logged out",
    "auth.token.issue": "an API token was issued",
    "auth.token.revoke": "an API token was revoked",
    "agent.enroll": "an agent enrolled",
    "agent.enroll.failure": "an agent enrollment was refused",
    "agent.revoke": "an agent was revoked",
    "agent.connect": "an agent's link was accepted",
    "agent.disconnect": "an agent's link ended",
    "agent.link.deny": "an agent's link was refused",
    "agent.rotate": "an agent's credentials were rotated",
    "agent.result": "an agent delivered a result",
    "host.scan": "a scan was requested for a host",
    "fim.check": "a file integrity check was requested for a host",
    "fim.accept": "file integrity changes of a host were accepted",
    "fim.refused": "a host's agent refused its file integrity baseline (failed verification or missing)",
    "harden.request": "a hardening run was requested for a host",
    "jointoken.create": "a join token was created",
    "jointoken.delete": "a join token was deleted",
    "advisory.rematch": "the fleet was re-matched against the advisory database",
    "registry.add": "a container registry was registered for scanning",
    "registry.remove": "a container registry was removed, with its images and their findings",
    "registry.repository.add": "a registry repository was added for scanning",
    "registry.repository.remove": "a registry repository was removed, with its images and their findings",
    "registry.scan": "a registry repository was polled: new and changed tags scanned, removed tags dropped",
    "authz.deny": "an authorization check denied a request",
    "api.write": "a state-changing API call",
    "session.start": "an access session started",
    "session.end": "an access session ended",
    "session.deny": "an access session was refused",
    "session.join": "a user joined an access session",
    "session.terminate": "an access session was terminated",
    "auth.totp.enroll": "a TOTP second factor was enrolled",
    "auth.totp.confirm": "a TOTP second factor was confirmed and turned on",
    "auth.totp.reset": "a TOTP second factor was removed",
    "user.create": "a user was created",
    "user.update": "a user was changed",
    "user.delete": "a user was deleted",
    "policy.update": "an authorization policy was changed",
    "audit.export": "the audit log was exported",
}


class Outcome(enum.StrEnum):
    """How the audited action ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    DENY = "deny"


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the audit chain; `hash` seals every other field (see `rampart.audit.codec`).

    `details` is copied on construction; treat it as read-only.
    """

    seq: int
    time: datetime
    actor: str
    action: str
    target: str
    outcome: Outcome
    details: dict[str, DetailValue]
    prev_hash: str
    hash: str

    def __post_init__(self) -> None:
        _check_seq(self.seq)
        object.__setattr__(self, "time", _utc(self.time))
        for name in ("actor", "target"):
            _check_text(name, getattr(self, name), MAX_TEXT)
        _check_action(self.action)
        object.__setattr__(self, "outcome", parse_outcome(self.outcome))
        object.__setattr__(self, "details", _checked_details(self.details))
        check_hex("prev_hash", self.prev_hash)
        check_hex("hash", self.hash)

    def __hash__(self) -> int:
        return hash(self.hash)


def is_secret_key(key: str) -> bool:
    """True when a detail key names something that may hold a secret (password, token, api_key, ...)."""
    words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower())
    return any(w in _SECRET_EXACT or w.endswith(_SECRET_WORDS) for w in words if w)


def redact(details: Mapping[str, DetailValue]) -> dict[str, DetailValue]:
    """A copy of `details` whose secret-looking keys have their value replaced by `REDACTED`."""
    return {k: (REDACTED if is_secret_key(k) and v is not None else v) for k, v in details.items()}


def _check_seq(seq: object) -> None:
    if type(seq) is not int or not 1 <= seq < _INT64:
        raise AuditError(f"audit seq must be a positive integer, got {seq!r}")


def _utc(time: object) -> datetime:
    if not isinstance(time, datetime) or time.utcoffset() != timedelta(0):
        raise AuditError("audit time must be a timezone-aware datetime in UTC")
    return time.astimezone(UTC)


def _check_text(name: str, value: object, limit: int) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise AuditError(f"audit {name} must be a non-empty string of at most {limit} characters")


def _check_action(action: object) -> None:
    if not isinstance(action, str) or action not in EVENT_TYPES:
        raise AuditError(f"unknown audit action {action!r}"[:200])


def parse_outcome(value: object) -> Outcome:
    """The `Outcome` named by `value`, or `AuditError`."""
    if not isinstance(value, str) or value not in {o.value for o in Outcome}:
        raise AuditError(f"audit outcome must be one of {', '.join(Outcome)}")
    return Outcome(value)


def check_hex(name: str, value: object) -> None:
    """Raise `AuditError` unless `value` is a 64-digit lowercase hex digest."""
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise AuditError(f"audit {name} must be 64 lowercase hex digits")


def _checked_details(details: object) -> dict[str, DetailValue]:
    if not isinstance(details, dict) or len(details) > MAX_DETAILS:
        raise AuditError(f"audit details must be a flat object of at most {MAX_DETAILS} keys")
    for key, value in details.items():
        _check_detail(key, value)
    return dict(details)


def _check_detail(key: object, value: object) -> None:
    if not isinstance(key, str) or not _DETAIL_KEY.fullmatch(key):
        raise AuditError("audit detail keys must be 1-128 characters of letters, digits, '_', '.', '-'")
    if is_secret_key(key) and value is not None and value != REDACTED:
        raise AuditError(f"audit detail {key!r} looks like a secret; pass details through redact()")
    if isinstance(value, str) and len(value) > MAX_DETAIL_TEXT:
        raise AuditError(f"audit detail {key!r} is longer than {MAX_DETAIL_TEXT} characters")
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        raise AuditError(f"audit detail {key!r} is outside the 64-bit integer range")
    if value is not None and not isinstance(value, str | int):
        raise AuditError(f"audit detail {key!r} must be a string, integer, boolean or null")
