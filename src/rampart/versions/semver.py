"""Semantic Versioning 2.0 order (npm, and OSV ``SEMVER`` ranges), parsed by python-semver 3.

Accepted forms: strict ``MAJOR.MINOR.PATCH[-pre][+build]``, after trimming whitespace
and one leading ``v`` or ``=`` (what npm's ``semver.clean`` strips). Partial versions
such as ``1.2`` and npm ranges are refused: an installed npm package always carries
a full version. Build metadata does not affect order (SemVer §10).
"""

from __future__ import annotations

from functools import lru_cache

import semver as python_semver

from rampart.versions.base import InvalidVersion, KeyedScheme

Identifier = tuple[int, int, str]
SemverKey = tuple[int, int, int, tuple[int, tuple[Identifier, ...]]]


def _identifier(part: str) -> Identifier:
    """Numeric identifiers sort numerically and before alphanumeric ones (SemVer §11.4)."""
    return (0, int(part), "") if part.isdigit() else (1, 0, part)


def key_of(version: python_semver.Version) -> SemverKey:
    """A tuple key with SemVer precedence; a release sorts after all its pre-releases."""
    pre = version.prerelease
    rank = (1, ()) if pre is None else (0, tuple(_identifier(p) for p in pre.split(".")))
    return (version.major, version.minor, version.patch, rank)


def parse_strict(scheme: str, text: str, *, partial: bool = False) -> python_semver.Version:
    """python-semver's parse, turning its ValueError into InvalidVersion."""
    try:
        return python_semver.Version.parse(text, optional_minor_and_patch=partial)
    except (ValueError, TypeError):
        raise InvalidVersion(scheme, text) from None


@lru_cache(maxsize=100_000)
def semver_key(text: str) -> SemverKey:
    """The sort key of an npm / SemVer version; raises InvalidVersion."""
    cleaned = text.strip()
    if cleaned[:1] in ("v", "="):
        cleaned = cleaned[1:]
    return key_of(parse_strict("semver", cleaned))


SEMVER = KeyedScheme("semver", semver_key)
"""npm package versions and OSV ``SEMVER`` range bounds."""
