"""Firewall configurations parsed from text: nftables rulesets, iptables rule dumps and ufw's files and status.

Every parser takes hostile text: unknown or malformed lines become ``problems`` (never exceptions); an nftables
ruleset whose braces do not balance is marked ``problems`` too, and a check must not judge it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rampart.harden.view import SystemView

NFT_CONF = "/etc/nftables.conf"
MAX_INCLUDES = 50
BLOCKS = (
    "table",
    "chain",
    "set",
    "map",
    "flowtable",
    "counter",
    "quota",
    "ct",
    "limit",
    "secmark",
    "synproxy",
)
_HOOK = re.compile(r"\btype\s+(\w+)\s+hook\s+(\w+)")
_POLICY = re.compile(r"\bpolicy\s+(\w+)")
_INCLUDE = re.compile(r'^include\s+"([^"]+)"')


@dataclass
class NftChain:
    family: str
    table: str
    name: str
    hook: str = ""
    type: str = ""
    policy: str = "accept"
    rules: list[str] = field(default_factory=list)


@dataclass
class NftRuleset:
    tables: list[tuple[str, str]] = field(default_factory=list)
    chains: list[NftChain] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def base_chains(self, hook: str) -> list[NftChain]:
        return [chain for chain in self.chains if chain.hook == hook and chain.type in ("filter", "")]

    @property
    def unbalanced(self) -> bool:
        return any("brace" in problem for problem in self.problems)


def _header(words: list[str]) -> tuple[str, str]:
    """(family, name) of a ``table [family] name`` header (family defaults to ip)."""
    rest = [word for word in words[1:] if word != "{"]
    if len(rest) >= 2:
        return rest[0], rest[1]
    return "ip", rest[0] if rest else "?"


def _chain_body(chain: NftChain, body: str) -> None:
    for statement in body.split(";"):
        text = " ".join(statement.split())
        hook, policy = _HOOK.search(text), _POLICY.search(text)
        if hook:
            chain.type, chain.hook = hook.group(1), hook.group(2)
        if policy and (hook or text.startswith("policy")):
            chain.policy = policy.group(1).lower()
        elif text and not hook and not text.startswith(("comment", "devices", "policy")):
            chain.rules.append(text)


class _NftParser:
    def __init__(self, ruleset: NftRuleset, where: str) -> None:
        self.ruleset, self.where = ruleset, where
        self.stack: list[tuple[str, object]] = []
        self.pending = ""

    def table(self) -> tuple[str, str]:
        for kind, value in reversed(self.stack):
            if kind == "table" and isinstance(value, tuple):
                return value
        return ("?", "?")

    def feed(self, number: int, text: str) -> None:
        """One line; a rule whose braces span lines (a multi-line set) is joined first."""
        if self.pending:
            self.pending += " " + text
            if self.pending.count("{") <= self.pending.count("}"):
                text, self.pending = self.pending, ""
                self.line(number, text)
        elif text.count("{") > text.count("}") and text.split()[0] not in BLOCKS and self.in_chain():
            self.pending = text
        else:
            self.line(number, text)

    def in_chain(self) -> bool:
        return bool(self.stack) and self.stack[-1][0] == "chain"

    def line(self, number: int, text: str) -> None:
        words = text.split()
        if text in ("}", "};"):
            self.close(number)
        elif words[0] in ("add", "create"):
            if len(words) > 1:
                self.line(number, " ".join(words[1:]))
        elif words[0] in BLOCKS and text.endswith("{"):
            self.open(words)
        else:
            self.statement(number, words, text)

    def statement(self, number: int, words: list[str], text: str) -> None:
        if words[0] == "chain" and "{" in text and text.endswith("}"):
            self.inline_chain(text)
        elif words[0] == "table" and len(words) >= 2:
            self.ruleset.tables.append(_header(words))
        elif self.in_chain() and isinstance(self.stack[-1][1], NftChain):
            _chain_body(self.stack[-1][1], text)
        elif words[0] == "rule" and len(words) >= 5:
            self.add_rule(words)
        elif not self.stack and words[0] not in ("flush", "define", "delete", "destroy", "include"):
            self.ruleset.problems.append(f"{self.where}:{number}: unknown statement, skipped")

    def open(self, words: list[str]) -> None:
        if words[0] == "table":
            family_name = _header(words)
            self.ruleset.tables.append(family_name)
            self.stack.append(("table", family_name))
        elif words[0] == "chain" and len(words) >= 2:
            family, table = self.table() if self.stack else _header(words[:3])
            chain = NftChain(family, table, [word for word in words[1:] if word != "{"][-1])
            self.ruleset.chains.append(chain)
            self.stack.append(("chain", chain))
        else:
            self.stack.append((words[0], None))

    def inline_chain(self, text: str) -> None:
        head = text.split("{", 1)[0].split()
        family, table, name = (*self.table(), head[-1]) if self.stack else (*_header(head[:3]), head[-1])
        chain = NftChain(family, table, name)
        _chain_body(chain, text.split("{", 1)[1].rsplit("}", 1)[0])
        self.ruleset.chains.append(chain)

    def add_rule(self, words: list[str]) -> None:
        family, table, name = words[1], words[2], words[3]
        for chain in self.ruleset.chains:
            if (chain.family, chain.table, chain.name) == (family, table, name):
                chain.rules.append(" ".join(words[4:]))
                return
        self.ruleset.problems.append(f"{self.where}: rule for unknown chain {family} {table} {name}")

    def close(self, number: int) -> None:
        if not self.stack:
            self.ruleset.problems.append(f"{self.where}:{number}: unbalanced braces ('}}' without a block)")
        else:
            self.stack.pop()


def _logical(text: str) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append((number, line))
    return lines


def parse_nft(text: str, where: str, ruleset: NftRuleset | None = None) -> NftRuleset:
    """An nftables ruleset (``nft list ruleset`` output or a ``nft -f`` file) without its includes."""
    ruleset = ruleset if ruleset is not None else NftRuleset()
    ruleset.sources.append(where)
    parser = _NftParser(ruleset, where)
    for number, line in _logical(text):
        parser.feed(number, line)
    if parser.stack or parser.pending:
        ruleset.problems.append(f"{where}: unbalanced braces ({len(parser.stack)} block(s) not closed)")
    return ruleset


def _includes(text: str) -> list[str]:
    return [match.group(1) for number, line in _logical(text) if (match := _INCLUDE.match(line))]


def read_nft_config(view: SystemView, path: str = NFT_CONF) -> NftRuleset | None:
    """The persisted ruleset: ``path`` and the files its ``include`` lines name (globs, relative to /etc)."""
    text = view.read_text(path)
    if text is None:
        return None
    ruleset = NftRuleset()
    pending, seen = [(path, text)], 0
    while pending and seen < MAX_INCLUDES:
        where, body = pending.pop(0)
        seen += 1
        parse_nft(body, where, ruleset)
        for pattern in _includes(body):
            full = pattern if pattern.startswith("/") else f"/etc/{pattern}"
            pending.extend((match, view.read_text(match) or "") for match in view.glob(full))
    return ruleset


@dataclass
class IptablesRules:
    """The filter table: chain policies and ``-A`` rules (whitespace collapsed)."""

    policies: dict[str, str] = field(default_factory=dict)
    rules: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def chain_rules(self, chain: str) -> list[str]:
        return [rule for name, rule in self.rules if name == chain]


def parse_iptables(text: str, where: str) -> IptablesRules:
    """``iptables -S`` output or an ``iptables-save`` file (only its ``*filter`` table)."""
    found, table = IptablesRules(), "filter"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:].strip()
        elif table == "filter" and not _iptables_line(found, line.split()):
            found.problems.append(f"{where}:{number}: not an iptables rule, skipped")
    return found


def _iptables_line(found: IptablesRules, words: list[str]) -> bool:
    if words[0] == "-P" and len(words) >= 3:
        found.policies[words[1]] = words[2].upper()
    elif words[0].startswith(":") and len(words) >= 2:
        found.policies[words[0][1:]] = words[1].upper()
    elif words[0] in ("-A", "-I") and len(words) >= 3:
        found.rules.append((words[1], " ".join(words[2:])))
    else:
        return words[0] == "-N"
    return True


@dataclass
class UfwStatus:
    active: bool
    defaults: dict[str, str]
    rules: list[str]


_DEFAULT = re.compile(r"(\w+)\s*\((incoming|outgoing|routed)\)")


def parse_ufw_status(text: str) -> UfwStatus:
    """``ufw status verbose`` output: whether active, the default policies, and the rule lines."""
    active, defaults, rules, in_table = False, {}, [], False
    for raw in text.splitlines():
        line = raw.strip()
        if line.lower().startswith("status:"):
            active = line.split(":", 1)[1].strip().lower() == "active"
        elif line.lower().startswith("default:"):
            defaults = {direction: policy.lower() for policy, direction in _DEFAULT.findall(line)}
        elif line.startswith("--"):
            in_table = True
        elif in_table and line:
            rules.append(" ".join(line.split()))
    return UfwStatus(active, defaults, rules)


def shell_values(text: str) -> dict[str, str]:
    """``KEY=value`` lines (quotes stripped), as in /etc/ufw/ufw.conf and /etc/default/ufw."""
    values = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, sep, value = line.partition("=")
        if sep and key.strip().isidentifier():
            values[key.strip()] = value.strip().strip("'\"")
    return values
