"""Time-based one-time passwords (RFC 6238): secrets, enrolment URIs and replay-safe verification.

Codes are 6 digits over 30-second steps (SHA-1, as every authenticator app expects). A code is
accepted for the current step and one step either side; `verify` returns the step ("counter") it
matched so the caller can store it, and refuses any step at or before the last one used, so a code
seen once (or an older one) never works again.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp

DIGITS = 6
STEP_SECONDS = 30
WINDOW = 1  # steps accepted either side of the current one
ISSUER = "rampart"
_CODE = re.compile(r"[0-9]{6}")
_MAX_CODE_INPUT = 32


def new_secret() -> str:
    """A new random base32 secret (160 bits)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, user: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app enrols from (e.g. as a QR code)."""
    return _totp(secret).provisioning_uri(name=user, issuer_name=issuer)


def counter_at(now: datetime) -> int:
    """The time step ``now`` falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, counter: int) -> str:
    """The code for one time step."""
    return _totp(secret).generate_otp(counter)


def verify(secret: str, code: str, last_counter: int, now: datetime) -> int | None:
    """The step ``code`` is valid for near ``now``, if later than ``last_counter``; else None.

    Anything that is not exactly six ASCII digits (surrounding spaces aside) is refused without
    looking at the secret.
    """
    candidate = _normalised(code)
    if candidate is None:
        return None
    current = counter_at(now)
    matched = None
    for counter in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at(secret, counter), candidate) and counter > last_counter:
            matched = counter
    return matched


def _normalised(code: str) -> str | None:
    if not isinstance(code, str) or len(code) > _MAX_CODE_INPUT:
        return None
    text = code.strip()
    return text if _CODE.fullmatch(text) else None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
