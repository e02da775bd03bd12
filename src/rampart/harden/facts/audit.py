"""Audit rules, normalised so two spellings of one rule compare equal.

Persisted rules come from /etc/audit/rules.d/*.rules in name order (what augenrules loads) or, when that has
none, /etc/audit/audit.rules; running rules from ``auditctl -l``. A rule becomes an `AuditRule`: the list and
action (``always,exit``), the arch, the set of syscalls, and the remaining fields as ``name op value``; a watch
``-w path -p perms`` becomes ``path=<path>`` with ``perm=<perms>``. Keys (``-k``, ``-F key=``) are dropped,
``auid!=-1``/``4294967295`` read as ``auid!=unset``, a trailing ``/`` on a watched path is ignored.
Control lines (``-e``, ``-D``, ``-b``, ...) are kept apart; garbage lines are noted and skipped.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from rampart.harden.context import Context
from rampart.harden.facts.accounts import shown
from rampart.harden.view import SystemView, ViewError

RULES_DIR, AUDIT_RULES = "/etc/audit/rules.d", "/etc/audit/audit.rules"
MAX_NOTES = 50
_FIELD = re.compile(r"^([A-Za-z0-9_]+)(!=|>=|<=|&=|=|>|<|&)(.*)$")
UNSET = {"-1", "4294967295"}


@dataclass(frozen=True)
class AuditRule:
    action: str
    arch: str
    syscalls: frozenset[str]
    fields: frozenset[str]
    perm: str
    where: str = ""

    def index_keys(self) -> list[str]:
        paths = [item.split("=", 1)[1] for item in self.fields if item.startswith(("path=", "dir="))]
        return [f"path:{path}" for path in paths] or [f"sys:{name}" for name in self.syscalls] or ["other"]


@dataclass
class AuditRules:
    """Rules indexed by watched path or syscall, the ``-e`` settings in order, the files read, and notes."""

    rules: list[AuditRule] = field(default_factory=list)
    index: dict[str, list[AuditRule]] = field(default_factory=dict)
    enabled: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, rule: AuditRule) -> None:
        self.rules.append(rule)
        for key in rule.index_keys():
            self.index.setdefault(key, []).append(rule)

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)


def _path(value: str) -> str:
    return value.rstrip("/") or "/"


def _field(text: str) -> tuple[str, str, str] | None:
    match = _FIELD.match(text)
    if match is None:
        return None
    name, op, value = match.groups()
    if name in ("path", "dir"):
        value = _path(value)
    if name in ("auid", "uid", "euid") and value in UNSET:
        value = "unset"
    return name, op, value


class _Builder:
    def __init__(self) -> None:
        self.action, self.arch, self.perm = "", "", ""
        self.syscalls: set[str] = set()
        self.fields: set[str] = set()

    def option(self, flag: str, value: str) -> bool:
        if flag in ("-a", "-A"):
            self.action = ",".join(sorted(value.lower().split(",")))
        elif flag == "-S":
            self.syscalls.update(name for name in value.split(",") if name)
        elif flag == "-w":
            self.action, self.fields = self.action or "always,exit", {*self.fields, f"path={_path(value)}"}
        elif flag == "-p":
            self.perm = "".join(sorted(set(value)))
        elif flag in ("-F", "-C"):
            return self._field(flag, value)
        return flag in ("-a", "-A", "-S", "-w", "-p", "-k")

    def _field(self, flag: str, value: str) -> bool:
        parsed = _field(value)
        if parsed is None:
            return False
        name, op, text = parsed
        if name == "arch":
            self.arch = text
        elif name == "perm":
            self.perm = "".join(sorted(set(text)))
        elif name != "key":
            self.fields.add(f"{'C:' if flag == '-C' else ''}{name}{op}{text}")
        return True

    def build(self, where: str) -> AuditRule | None:
        if not self.action:
            return None
        if any(item.startswith("path=") for item in self.fields) and not self.perm and not self.syscalls:
            self.perm = "arwx"
        return AuditRule(
            self.action, self.arch, frozenset(self.syscalls), frozenset(self.fields), self.perm, where
        )


CONTROLS = frozenset(
    {"-e", "-D", "-b", "-f", "-r", "--backlog_wait_time", "--loginuid-immutable", "-i", "-c"}
)


def parse_line(line: str, where: str, rules: AuditRules) -> None:
    """One rule or control line into ``rules``; a line that cannot be understood becomes a note."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = []
    if not words:
        if line.strip() and not line.lstrip().startswith("#"):
            rules.note(f"{shown(where)}: unparseable line skipped")
        return
    if words[0] in CONTROLS:
        if words[0] == "-e" and len(words) > 1:
            rules.enabled.append((words[1], where))
        return
    _rule(words, where, rules)


def _rule(words: list[str], where: str, rules: AuditRules) -> None:
    builder = _Builder()
    pairs = list(zip(words[::2], words[1::2], strict=False))
    ok = len(words) % 2 == 0 and all(builder.option(flag, value) for flag, value in pairs)
    rule = builder.build(where) if ok else None
    if rule is None:
        rules.note(f"{shown(where)}: unparseable rule skipped")
    else:
        rules.add(rule)


def parse_text(text: str, source: str, rules: AuditRules) -> None:
    rules.sources.append(source)
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            parse_line(line, f"{source}:{number}", rules)


def read_persisted(view: SystemView) -> AuditRules:
    rules = AuditRules()
    paths = view.glob(f"{RULES_DIR}/*.rules") or [AUDIT_RULES]
    for path in paths:
        try:
            text = view.read_text(path)
        except ViewError as exc:
            rules.note(shown(exc.message, 200))
            continue
        if text is not None:
            parse_text(text, path, rules)
    return rules


def persisted_rules(context: Context) -> AuditRules:
    """The on-disk audit rules, parsed once per run."""
    return context.memo("audit:persisted", lambda: read_persisted(context.view))


def running_rules(context: Context) -> AuditRules | None:
    """The loaded rules (``auditctl -l``) on a live host; None offline or when auditctl gave nothing."""
    if context.runtime is None:
        return None
    output = context.runtime.command("auditctl -l")
    if output is None:
        return None

    def parse() -> AuditRules:
        rules = AuditRules()
        parse_text("" if output.strip() == "No rules" else output, "auditctl -l", rules)
        return rules

    return context.memo("audit:running", parse)


def expected_rule(line: str) -> AuditRule:
    """A rule as a rule file writes it; ValueError when it is not one audit rule."""
    rules = AuditRules()
    parse_line(line, "rule", rules)
    if len(rules.rules) != 1:
        raise ValueError(f"not an audit rule: {line!r}")
    return rules.rules[0]


def covers(actual: AuditRule, wanted: AuditRule) -> bool:
    """``actual`` audits at least what ``wanted`` asks: same action and arch, its syscalls, fields and perms."""
    return (
        actual.action == wanted.action
        and (not wanted.arch or actual.arch == wanted.arch)
        and wanted.syscalls <= actual.syscalls
        and _same_fields(actual.fields, wanted.fields)
        and set(wanted.perm) <= set(actual.perm)
    )


def _same_fields(actual: frozenset[str], wanted: frozenset[str]) -> bool:
    swap = {item.replace("path=", "dir=", 1) if item.startswith("path=") else item for item in wanted}
    return wanted <= actual or swap <= actual


def find(rules: AuditRules, wanted: AuditRule) -> AuditRule | None:
    """The first loaded/persisted rule that covers ``wanted``."""
    for key in wanted.index_keys()[:1]:
        for candidate in rules.index.get(key, []):
            if covers(candidate, wanted):
                return candidate
    return None
