"""``image_secrets``: no environment variable or label of the image looks like it carries a secret.

Every ``config.Env`` entry and ``config.Labels`` entry is judged by its name and by its value:

- a name matching one of ``names`` (case-insensitive shell patterns; default ``*PASSWORD*``, ``*PASSWD*``,
  ``*SECRET*``, ``*TOKEN*``, ``*_KEY``, ``*APIKEY*``, ``*API_KEY*``, ``*CREDENTIAL*``, ...), unless it
  matches one of ``allow`` (default: ``*_FILE``, ``*_PATH``, ``*_DIR``, ``GPG_KEY``, ``*_GPG_KEY`` — names of
  files and public key fingerprints, as official images set them), with a non-empty value;
- a value holding a private-key header, an AWS access key id (``AKIA``/``ASIA`` + 16), a GitHub token
  (``ghp_``, ``gho_``, ``ghs_``, ``ghu_``, ``ghr_``, ``github_pat_``), a Slack token (``xox?-``), or a URL
  with a password (``scheme://user:password@``), whatever the name.

Parameters: ``names``, ``allow`` (replace the defaults), ``extra_names`` (added to ``names``). Evidence names
the variable or label and why it looks secret; it NEVER shows the value (and when the name itself holds a
secret-looking string, not even the name). Targets that are not images are ``na``.
"""

from __future__ import annotations

import fnmatch
import re

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.imageconfig import NOT_AN_IMAGE, container_config, env, labels, shown
from rampart.harden.model import Outcome

SECRET_NAMES = (
    "*PASSWORD*", "*PASSWD*", "*SECRET*", "*TOKEN*", "*_KEY", "*APIKEY*", "*API_KEY*", "*ACCESS_KEY*",
    "*-KEY", "*PRIVATE_KEY*", "*CREDENTIAL*", "AWS_SECRET_ACCESS_KEY",
)  # fmt: skip
ALLOWED_NAMES = ("*_FILE", "*_PATH", "*_DIR", "GPG_KEY", "*_GPG_KEY")
SECRET_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a Slack token", re.compile(r"\bxox[abeprs]-[A-Za-z0-9-]{10,}")),
    (
        "a URL with a password",
        re.compile(r"[a-z][a-z0-9+.-]{0,30}://[^/\s:@]{1,256}:[^/\s@]{1,256}@", re.IGNORECASE),
    ),
)
MAX_LINES = 50


class ImageSecretsParams(Params):
    names: list[str] = Field(default_factory=lambda: list(SECRET_NAMES))
    allow: list[str] = Field(default_factory=lambda: list(ALLOWED_NAMES))
    extra_names: list[str] = Field(default_factory=list)


def evaluate(params: ImageSecretsParams, context: Context) -> Outcome:
    config = container_config(context)
    if config is None:
        return Outcome.not_applicable(NOT_AN_IMAGE)
    entries = [("config.Env", name, value) for name, value in env(config)]
    entries += [("config.Labels", name, value) for name, value in labels(config).items()]
    found = [line for where, name, value in entries if (line := judge(params, where, name, value))]
    if found:
        more = [f"... and {len(found) - MAX_LINES} more"] if len(found) > MAX_LINES else []
        return Outcome.failed(*found[:MAX_LINES], *more)
    return Outcome.passed(f"no secret-looking value in {len(entries)} environment variables and labels")


def judge(params: ImageSecretsParams, where: str, name: str, value: str) -> str | None:
    """One evidence line when the entry looks like it holds a secret (the value never shown), else None."""
    shape = value_shape(value) or value_shape(name)
    label = f"{where} {shown(name, 80)}" if value_shape(name) is None else f"{where} entry (name not shown)"
    if shape:
        return f"{label}: the value looks like {shape} (value not shown)"
    if value.strip() and secret_name(params, name):
        return f"{label}: the name suggests a secret and it has a value (value not shown)"
    return None


def value_shape(text: str) -> str | None:
    """What secret ``text`` looks like, or None (every pattern runs in time linear in the text)."""
    return next((shape for shape, pattern in SECRET_VALUES if pattern.search(text)), None)


def secret_name(params: ImageSecretsParams, name: str) -> bool:
    upper = name.upper()
    patterns = [*params.names, *params.extra_names]
    if any(fnmatch.fnmatchcase(upper, pattern.upper()) for pattern in params.allow):
        return False
    return any(fnmatch.fnmatchcase(upper, pattern.upper()) for pattern in patterns)


CHECK = CheckType(
    "image_secrets", ImageSecretsParams, evaluate, "no image environment variable or label holds a secret"
)
