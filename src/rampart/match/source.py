"""The AdvisorySource protocol: what the matcher asks of an advisory database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rampart.model import Advisory


class AdvisorySource(Protocol):
    """Looks up the advisories that have an ``affected`` entry for a package.

    ``name`` is compared as stored: PyPI names are PEP 503 normalised on both sides,
    Debian names are source package names.
    """

    def advisories_for(self, ecosystem: str, name: str) -> Sequence[Advisory]: ...
