"""Docker credential helpers: ``docker-credential-NAME get`` run with a registry host on stdin.

The helper is looked up on PATH by a strictly checked name, run without a shell, given 30 seconds and at
most 64 KiB of answer. Its answer is ``{"ServerURL", "Username", "Secret"}``; "credentials not found"
means no credential; any other failure is an ImageError naming the helper (never echoing its output,
which may hold a secret).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from rampart.image.credentials import Credential
from rampart.image.source import ImageError

TIMEOUT = 30.0
MAX_ANSWER = 64 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NOT_FOUND = "credentials not found"


def valid_helper_name(name: str) -> bool:
    """Whether ``name`` can name a helper (``docker-credential-NAME``): no paths, no options."""
    return _NAME.fullmatch(name) is not None


def ask_helper(name: str, host: str) -> Credential | None:
    """The credential helper ``name`` keeps for ``host``, or None when it has none."""
    program = shutil.which(f"docker-credential-{name}") if valid_helper_name(name) else None
    if program is None:
        raise ImageError(f"credential helper docker-credential-{name[:64]} is not installed (not on PATH)")
    try:
        done = subprocess.run(
            [program, "get"], input=host.encode(), capture_output=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise ImageError(f"credential helper {name} did not answer within {TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        if NOT_FOUND in (done.stdout + done.stderr).decode(errors="replace").lower():
            return None
        raise ImageError(f"credential helper {name} failed for {host} (exit status {done.returncode})")
    return _credential(done.stdout, name, host)


def _credential(answer: bytes, name: str, host: str) -> Credential:
    if len(answer) > MAX_ANSWER:
        raise ImageError(f"credential helper {name} answered more than {MAX_ANSWER} bytes")
    try:
        document = json.loads(answer)
        username, secret = document["Username"], document["Secret"]
    except (ValueError, TypeError, KeyError):
        raise ImageError(f"credential helper {name} gave no Username and Secret for {host}") from None
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        raise ImageError(f"credential helper {name} gave no Username and Secret for {host}")
    return Credential(username, secret)
