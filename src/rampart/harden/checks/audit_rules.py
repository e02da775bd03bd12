"""``audit_rules``: audit rules present on disk (and loaded, on a live host), matched after normalisation
(facts/audit.py): key and order ignored, a loaded rule may cover more syscalls or permissions than asked.

Parameters: ``rules`` (lines as ``auditctl -l`` prints them; write both ``arch=b64`` and ``arch=b32`` lines
where both are wanted), or ``assert``: ``immutable`` (the last ``-e`` is ``-e 2``; live: ``auditctl -s``
says ``enabled 2``), ``privileged_commands`` (every SUID/SGID file of the shared walk has a ``-F path=<file>
-F perm=x -F auid>=<uid_min> -F auid!=unset`` rule; ``uid_min`` defaults to login.defs UID_MIN),
``runtime_matches`` (the loaded rules equal the persisted ones; needs a live host).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.accounts import account_facts, shown
from rampart.harden.facts.audit import (
    AuditRule,
    AuditRules,
    expected_rule,
    find,
    persisted_rules,
    running_rules,
)
from rampart.harden.facts.fswalk import walk_facts
from rampart.harden.model import Outcome

MAX_SHOWN = 20


class AuditRulesParams(Params):
    rules: list[str] = Field(default_factory=list)
    assert_: Literal["immutable", "privileged_commands", "runtime_matches"] | None = Field(
        default=None, alias="assert"
    )
    uid_min: int | None = None


def _missing(rules: AuditRules, lines: list[str], wanted: list[AuditRule], label: str) -> list[str]:
    return [
        f"{label}: no rule covering {shown(line, 160)}"
        for line, rule in zip(lines, wanted, strict=True)
        if find(rules, rule) is None
    ]


def _sources(rules: AuditRules) -> str:
    return ", ".join(shown(source) for source in rules.sources[:5]) or "no audit rules files"


def _runtime_note(context: Context) -> str:
    if context.runtime is None:
        return "runtime not checked (offline target)"
    return "runtime not checked (auditctl -l unavailable)"


def _check_lines(lines: list[str], context: Context) -> Outcome:
    wanted = [expected_rule(line) for line in lines]
    persisted = persisted_rules(context)
    problems = _missing(persisted, lines, wanted, "on disk")
    running = running_rules(context)
    live = _missing(running, lines, wanted, "loaded") if running is not None else []
    notes = [
        f"read {_sources(persisted)}",
        *([_runtime_note(context)] if running is None else []),
        *persisted.notes[:3],
    ]
    if problems or live:
        shown_problems = [*problems, *live]
        more = [f"... and {len(shown_problems) - MAX_SHOWN} more"] if len(shown_problems) > MAX_SHOWN else []
        return Outcome.failed(*shown_problems[:MAX_SHOWN], *more, *notes)
    found = [
        f"{shown(rule.where)}: covers {shown(line, 120)}"
        for line, want in zip(lines, wanted, strict=True)
        if (rule := find(persisted, want)) is not None
    ]
    return Outcome.passed(*found[:MAX_SHOWN], *notes)


def _immutable(context: Context) -> Outcome:
    persisted = persisted_rules(context)
    last = persisted.enabled[-1] if persisted.enabled else None
    evidence = [
        f"{shown(last[1])}: -e {shown(last[0])}" if last else f"no -e setting in {_sources(persisted)}"
    ]
    ok = last is not None and last[0] == "2"
    status = context.runtime.command("auditctl -s") if context.runtime is not None else None
    if status is None:
        evidence.append(_runtime_note(context).replace("auditctl -l", "auditctl -s"))
    else:
        running = next((line.split()[1] for line in status.splitlines() if line.startswith("enabled ")), "?")
        evidence.append(f"auditctl -s: enabled {shown(running)}")
        ok = ok and running == "2"
    return Outcome.passed(*evidence) if ok else Outcome.failed(*evidence)


def _privileged(params: AuditRulesParams, context: Context) -> Outcome:
    walk = walk_facts(context)
    if walk.entries == 0:
        return Outcome.not_applicable("the filesystem walk found no entries")
    uid_min = params.uid_min if params.uid_min is not None else account_facts(context).login_number("UID_MIN")
    files = [path for path in walk.suid_sgid.examples if not any(char.isspace() for char in path)]
    lines = [f"-a always,exit -F path={path} -F perm=x -F auid>={uid_min} -F auid!=unset" for path in files]
    if not lines:
        return Outcome.passed("no SUID/SGID files found")
    outcome = _check_lines(lines, context)
    extra = (
        (f"only the first {len(files)} of {walk.suid_sgid.count} SUID/SGID files checked",)
        if walk.suid_sgid.truncated
        else ()
    )
    return Outcome(outcome.status, (*outcome.evidence, *extra), outcome.reason)


def _signature(rule: AuditRule) -> tuple[str, str, frozenset[str], frozenset[str], str]:
    return rule.action, rule.arch, rule.syscalls, rule.fields, rule.perm


def _runtime_matches(context: Context) -> Outcome:
    running = running_rules(context)
    if running is None:
        reason = "needs a running system" if context.runtime is None else "auditctl -l unavailable"
        return Outcome.not_applicable(reason)
    persisted = persisted_rules(context)
    on_disk = {_signature(rule): rule for rule in persisted.rules}
    loaded = {_signature(rule): rule for rule in running.rules}
    problems = [
        f"{shown(rule.where)}: on disk but not loaded" for key, rule in on_disk.items() if key not in loaded
    ]
    problems += [
        f"{shown(rule.where)}: loaded but not on disk" for key, rule in loaded.items() if key not in on_disk
    ]
    if problems:
        return Outcome.failed(*problems[:MAX_SHOWN], f"{len(problems)} differences")
    return Outcome.passed(f"{len(on_disk)} rules on disk, all loaded and nothing else")


def evaluate(params: AuditRulesParams, context: Context) -> Outcome:
    if params.assert_ == "immutable":
        return _immutable(context)
    if params.assert_ == "privileged_commands":
        return _privileged(params, context)
    if params.assert_ == "runtime_matches":
        return _runtime_matches(context)
    if not params.rules:
        raise ValueError("audit_rules needs 'rules' or 'assert'")
    return _check_lines(params.rules, context)


CHECK = CheckType(
    "audit_rules", AuditRulesParams, evaluate, "audit rules on disk and loaded, matched after normalising"
)
