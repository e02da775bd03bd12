"""Go module and toolchain versions, ordered as SemVer (via versions.semver).

Accepted: module versions with or without the leading ``v`` (``v1.2.3``,
``v2.0.0+incompatible``), pseudo-versions (``v0.0.0-20210101000000-abcdef123456``,
which order as pre-releases, as Go orders them), and Go toolchain names as the
standard library (module ``stdlib``) reports them: ``go1.20`` = ``1.20.0``,
``go1.21rc2`` = ``1.21.0-rc.2``, ``go1.20beta1`` = ``1.20.0-beta.1``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rampart.versions.base import InvalidVersion, KeyedScheme
from rampart.versions.semver import SemverKey, key_of, parse_strict

_TOOLCHAIN = re.compile(r"go(?P<release>\d+(?:\.\d+){0,2})(?:(?P<pre>rc|beta|alpha)(?P<num>\d+))?")


def _from_toolchain(text: str) -> str | None:
    """``go1.21rc2`` -> ``1.21.0-rc.2``; None when ``text`` is not a toolchain name."""
    found = _TOOLCHAIN.fullmatch(text)
    if found is None:
        return None
    parts = found["release"].split(".")
    release = ".".join([*parts, "0", "0"][:3])
    return f"{release}-{found['pre']}.{found['num']}" if found["pre"] else release


@lru_cache(maxsize=100_000)
def go_key(text: str) -> SemverKey:
    """The sort key of a Go module or toolchain version; raises InvalidVersion."""
    cleaned = text.strip()
    toolchain = _from_toolchain(cleaned)
    if toolchain is not None:
        return key_of(parse_strict("go", toolchain))
    if cleaned.startswith("v"):
        cleaned = cleaned[1:]
    if not cleaned or not cleaned[0].isdigit():
        raise InvalidVersion("go", text)
    return key_of(parse_strict("go", cleaned))


GO = KeyedScheme("go", go_key)
"""Go modules (and ``stdlib``)."""
