"""The ignore file: accepted risks, each with an advisory id, optional package, reason and expiry date.

Format (YAML)::

    ignore:
      - id: CVE-2023-1393          # a CVE or any advisory id/alias of the finding
        package: xserver-xorg-core # optional: binary or source package name
        reason: not reachable, X server not running
        expires: 2027-01-31        # optional: stops applying after this day (UTC)

Expired entries stop applying and are reported so that nobody forgets them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rampart.errors import IgnoreFileError
from rampart.model import Finding, IgnoredFinding

MAX_IGNORE_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class IgnoreRule:
    """One accepted risk."""

    id: str
    reason: str
    package: str | None = None
    expires: dt.date | None = None

    def applies_to(self, finding: Finding) -> bool:
        names = {finding.vulnerability_id, *finding.advisory_ids, *finding.aliases}
        if self.id not in names:
            return False
        if self.package is None:
            return True
        return self.package in {finding.package.name, finding.package.source_name}

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Triaged:
    """Findings split by the ignore rules, plus the rules that have expired."""

    kept: tuple[Finding, ...]
    ignored: tuple[IgnoredFinding, ...]
    expired: tuple[IgnoreRule, ...]


def load_ignore_file(path: Path) -> tuple[IgnoreRule, ...]:
    """Read and validate an ignore file; raises IgnoreFileError with the first problem found."""
    import yaml

    try:
        if path.stat().st_size > MAX_IGNORE_FILE_BYTES:
            raise IgnoreFileError(f"{path}: ignore file larger than {MAX_IGNORE_FILE_BYTES} bytes")
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise IgnoreFileError(f"{path}: cannot read ignore file: {error.strerror}") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise IgnoreFileError(f"{path}: not valid YAML: {_first_line(error)}") from error
    return parse_ignore_document(document, str(path))


def parse_ignore_document(document: Any, origin: str) -> tuple[IgnoreRule, ...]:
    """Validate the loaded YAML structure of an ignore file."""
    if document is None:
        return ()
    if not isinstance(document, dict) or not isinstance(document.get("ignore", []), list):
        raise IgnoreFileError(f"{origin}: expected a mapping with an 'ignore' list")
    return tuple(_parse_rule(entry, f"{origin}: entry {n}") for n, entry in enumerate(document["ignore"], 1))


def _parse_rule(entry: Any, where: str) -> IgnoreRule:
    if not isinstance(entry, dict):
        raise IgnoreFileError(f"{where}: expected a mapping with id and reason")
    unknown = set(entry) - {"id", "package", "reason", "expires"}
    if unknown:
        raise IgnoreFileError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    ident, reason, package = entry.get("id"), entry.get("reason"), entry.get("package")
    if not isinstance(ident, str) or not ident.strip():
        raise IgnoreFileError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(reason, str) or not reason.strip():
        raise IgnoreFileError(f"{where}: 'reason' is required (say why the risk is accepted)")
    if package is not None and not isinstance(package, str):
        raise IgnoreFileError(f"{where}: 'package' must be a string")
    return IgnoreRule(ident.strip(), reason.strip(), package, _parse_expiry(entry.get("expires"), where))


def _parse_expiry(value: Any, where: str) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise IgnoreFileError(f"{where}: 'expires' must be a date like 2027-01-31") from None


def apply_ignores(findings: Iterable[Finding], rules: Sequence[IgnoreRule], today: dt.date) -> Triaged:
    """Split findings into kept and ignored; expired rules are returned, never applied."""
    active = [rule for rule in rules if not rule.expired(today)]
    kept: list[Finding] = []
    ignored: list[IgnoredFinding] = []
    for finding in findings:
        rule = next((r for r in active if r.applies_to(finding)), None)
        if rule is None:
            kept.append(finding)
        else:
            expiry = rule.expires.isoformat() if rule.expires else None
            ignored.append(IgnoredFinding(finding, rule.reason, expiry))
    expired = tuple(rule for rule in rules if rule.expired(today))
    return Triaged(tuple(kept), tuple(ignored), expired)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
