"""Loading rule records from YAML: the shipped rules (``rampart/harden/rules/*.yml``) and any extra files.

A rule file is ``{section: "5.1 SSH server", rules: [record, ...]}``. Each record is validated on its own:
a bad record becomes one line in ``RuleSet.errors`` (file, rule id or index, what was wrong) and the rest load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rampart.errors import RampartError
from rampart.harden.checks import CHECKS
from rampart.harden.model import CheckSpec, Level, Rule

MAX_RULE_FILE_BYTES = 4 << 20
RULE_ID = r"^[a-z0-9][a-z0-9_.-]{1,79}$"
COMBINATOR_TYPES = frozenset({"all", "any", "not"})
REQUIREMENTS = frozenset({"kernel", "systemd", "runtime", "image"})


class RuleFileError(RampartError):
    """A rule, profile or tailoring file cannot be read at all (not YAML, not a mapping, too large)."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=RULE_ID)
    title: str = Field(min_length=3, max_length=200)
    rationale: str = Field(min_length=3)
    severity: Literal["info", "low", "medium", "high", "critical"]
    section: str | None = None
    cis: dict[str, list[str]] = Field(default_factory=dict)
    references: list[str] = Field(default_factory=list)
    requires: list[Literal["kernel", "systemd", "runtime", "image"]] = Field(default_factory=list)
    precondition: dict[str, Any] | None = None
    check: dict[str, Any]
    variables: dict[str, Any] = Field(default_factory=dict)
    remediation: str = ""
    fix: dict[str, Any] | None = None

    @field_validator("check", "precondition")
    @classmethod
    def _known_type(cls, spec: dict[str, Any] | None) -> dict[str, Any] | None:
        if spec is not None:
            check_types(spec)
        return spec


def check_types(spec: Mapping[str, Any]) -> None:
    """Raise ValueError unless ``spec`` and every nested spec name a known check type."""
    kind = spec.get("type")
    if kind in COMBINATOR_TYPES:
        for item in spec.get("checks") or ():
            check_types(item)
        if not spec.get("checks"):
            raise ValueError(f"'{kind}' needs a non-empty 'checks' list")
    elif kind not in CHECKS:
        raise ValueError(f"unknown check type {kind!r}")


def spec_of(raw: Mapping[str, Any]) -> CheckSpec:
    return CheckSpec(str(raw["type"]), {key: value for key, value in raw.items() if key != "type"})


def _rule(record: _Record, section: str, source: str) -> Rule:
    return Rule(
        id=record.id,
        title=record.title,
        rationale=record.rationale,
        severity=Level.parse(record.severity),
        section=record.section or section,
        check=spec_of(record.check),
        cis={name: tuple(ids) for name, ids in record.cis.items()},
        references=tuple(record.references),
        requires=frozenset(record.requires),
        precondition=spec_of(record.precondition) if record.precondition else None,
        variables=record.variables,
        remediation=record.remediation.strip(),
        fix=spec_of(record.fix) if record.fix else None,
        source=source,
    )


@dataclass
class RuleSet:
    """Rules by id, in load order, and one line per record that could not be loaded."""

    rules: dict[str, Rule] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add_document(self, document: Any, source: str) -> None:
        if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
            self.errors.append(f"{source}: not a rule file (a mapping with a 'rules' list)")
            return
        section = str(document.get("section", ""))
        for index, raw in enumerate(document["rules"]):
            self._add_record(raw, section, f"{source}: rule {_label(raw, index)}")

    def _add_record(self, raw: Any, section: str, where: str) -> None:
        try:
            rule = _rule(_Record.model_validate(raw), section, where.split(":")[0])
        except ValidationError as exc:
            self.errors.append(f"{where}: {_first_error(exc)}")
            return
        if rule.id in self.rules:
            self.errors.append(f"{where}: duplicate rule id (first in {self.rules[rule.id].source})")
            return
        self.rules[rule.id] = rule


def _label(raw: Any, index: int) -> str:
    return repr(raw["id"]) if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index + 1}"


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def read_yaml(text: str, source: str) -> Any:
    if len(text) > MAX_RULE_FILE_BYTES:
        raise RuleFileError(f"{source}: larger than {MAX_RULE_FILE_BYTES >> 20} MiB")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" line {mark.line + 1}" if mark is not None else ""
        raise RuleFileError(
            f"{source}:{place} not valid YAML ({getattr(exc, 'problem', None) or exc})"
        ) from None


def read_file(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as exc:
        raise RuleFileError(f"{path}: cannot be read ({exc.strerror})") from None
    return data.decode("utf-8", errors="replace")


def shipped_rule_texts() -> Iterable[tuple[str, str]]:
    folder = resources.files("rampart.harden") / "rules"
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".yml"):
            yield f"rules/{entry.name}", entry.read_text(encoding="utf-8")


def load_rules(extra: Iterable[Path] = ()) -> RuleSet:
    """The shipped rules, then each extra file's; a file that is not YAML at all is one error line."""
    ruleset = RuleSet()
    texts = [*shipped_rule_texts(), *((str(path), read_file(path)) for path in extra)]
    for source, text in texts:
        try:
            ruleset.add_document(read_yaml(text, source), source)
        except RuleFileError as exc:
            ruleset.errors.append(exc.message)
    return ruleset
