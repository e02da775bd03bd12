"""The judgements behind the ``firewall`` check (see checks/firewall.py): per tool, where its running and
persisted rules come from, and what each assertion demands of them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from rampart.harden.context import Context
from rampart.harden.facts.firewall import (
    NFT_CONF,
    IptablesRules,
    NftRuleset,
    UfwStatus,
    parse_iptables,
    parse_nft,
    parse_ufw_status,
    read_nft_config,
    shell_values,
)
from rampart.harden.facts.units import unit_state
from rampart.harden.model import Outcome
from rampart.harden.view import ViewError

HOOKS = ("input", "forward", "output")
ACTIVE = frozenset({"active", "activating", "reloading"})
SERVICES = {"ssh": 22, "http": 80, "https": 443, "smtp": 25, "domain": 53, "ntp": 123, "openssh": 22}
IPTABLES = {"iptables": ("iptables -S", "/etc/iptables/rules.v4", "127.0.0.0/8"),
            "ip6tables": ("ip6tables -S", "/etc/iptables/rules.v6", "::1")}  # fmt: skip
IPTABLES_UNITS = ("netfilter-persistent.service", "iptables.service")
UFW_CONF, UFW_DEFAULTS = "/etc/ufw/ufw.conf", "/etc/default/ufw"
UFW_RULE_FILES = (
    "/etc/ufw/user.rules",
    "/etc/ufw/user6.rules",
    "/etc/ufw/before.rules",
    "/etc/ufw/before6.rules",
)
Judgement = tuple[bool, str]


# --- shared -------------------------------------------------------------------------------------------------


def _unit_in_use(context: Context, unit: str) -> tuple[bool, str]:
    files = unit_state(context, unit)
    active = None
    if context.runtime is not None:
        state = context.runtime.unit_state(unit).active
        active = None if state == "unknown" else state
    used = files.state in ("enabled", "enabled-runtime", "static") or active in ACTIVE
    return used, f"{unit}: {files.state}" + (f", {active}" if active else "")


def open_ports(context: Context) -> list[int]:
    """Ports listened on beyond loopback (needs a runtime)."""
    from rampart.harden.checks.listening import is_loopback

    assert context.runtime is not None
    return sorted({s.port for s in context.runtime.listening() if not is_loopback(s.address)})


def _numbers(items: Iterable[str]) -> set[int]:
    found: set[int] = set()
    for raw in items:
        item = raw.strip().strip('"').lower()
        low, _, high = item.replace(":", "-").partition("-")
        if low.isdigit() and (high.isdigit() or not high):
            found.update(range(int(low), int(high or low) + 1) if int(high or low) - int(low) < 65536 else ())
        elif item in SERVICES:
            found.add(SERVICES[item])
    return found


def _ports_judgement(label: str, covered: set[int], ports: list[int]) -> Judgement:
    missing = [port for port in ports if port not in covered]
    if missing:
        return False, f"{label}: no rule for open port(s) {', '.join(map(str, missing))}"
    return True, f"{label}: rules cover open port(s) {', '.join(map(str, ports)) or '(none open)'}"


def _outcome(results: list[Judgement], notes: list[str]) -> Outcome:
    evidence = [line for _, line in results] + notes
    return (
        Outcome.passed(*evidence) if results and all(ok for ok, _ in results) else Outcome.failed(*evidence)
    )


def _runtime_text(context: Context, command: str, notes: list[str]) -> str | None:
    if context.runtime is None:
        notes.append("runtime not checked (offline target)")
        return None
    text = context.runtime.command(command)
    if text is None:
        notes.append(f"running rules not read ('{command}' missing or failed, e.g. not root)")
    return text


# --- nftables -----------------------------------------------------------------------------------------------


def _nft_sources(context: Context, persisted_only: bool) -> tuple[list[tuple[str, NftRuleset]], list[str]]:
    notes: list[str] = []
    sources = []
    text = None if persisted_only else _runtime_text(context, "nft list ruleset", notes)
    if text is not None:
        sources.append(("running ruleset", parse_nft(text, "nft list ruleset")))
    persisted = context.memo("nft_conf", lambda: read_nft_config(context.view))
    if persisted is not None:
        sources.append((NFT_CONF, persisted))
    else:
        notes.append(f"{NFT_CONF}: missing")
    for label, ruleset in sources:
        if ruleset.unbalanced:
            raise ViewError(f"{label}: nftables ruleset does not parse ({ruleset.problems[-1]})")
    return sources, notes


def _nft_base_chains(label: str, ruleset: NftRuleset) -> Judgement:
    missing = [hook for hook in HOOKS if not ruleset.base_chains(hook)]
    if missing:
        return False, f"{label}: no base chain for hook {', '.join(missing)}"
    return True, f"{label}: base chains for input, forward, output"


def _nft_default_deny(label: str, ruleset: NftRuleset) -> Judgement:
    policies = {hook: sorted({chain.policy for chain in ruleset.base_chains(hook)}) for hook in HOOKS}
    shown = ", ".join(f"{hook} {'/'.join(found) or 'no chain'}" for hook, found in policies.items())
    return all(found == ["drop"] for found in policies.values()), f"{label}: policy {shown}"


def _nft_rules(ruleset: NftRuleset, hook: str) -> list[str]:
    return [rule for chain in ruleset.base_chains(hook) for rule in chain.rules]


_NFT_LOOPBACK = {
    "accept on lo": re.compile(r'\biif(name)?\s+"?lo"?\s.*\baccept\b'),
    "drop from 127.0.0.0/8": re.compile(r"\bip\s+saddr\s+127\.0\.0\.0/8\b.*\bdrop\b"),
    "drop from ::1": re.compile(r"\bip6\s+saddr\s+::1(/128)?\b.*\bdrop\b"),
}


def _nft_loopback(label: str, ruleset: NftRuleset) -> Judgement:
    rules = _nft_rules(ruleset, "input")
    missing = [
        name for name, pattern in _NFT_LOOPBACK.items() if not any(pattern.search(rule) for rule in rules)
    ]
    return not missing, f"{label}: " + (
        f"input lacks {', '.join(missing)}" if missing else "loopback rules present"
    )


def _nft_ports(context: Context) -> Callable[[str, NftRuleset], Judgement]:
    ports = open_ports(context)

    def judge(label: str, ruleset: NftRuleset) -> Judgement:
        rules = [rule for chain in ruleset.chains for rule in chain.rules]
        items = [
            item
            for rule in rules
            for match in re.finditer(r"dport\s+(\{[^}]*\}|\S+)", rule)
            for item in match.group(1).strip("{}").split(",")
        ]
        return _ports_judgement(label, _numbers(items), ports)

    return judge


def _nft(context: Context, assertion: str) -> Outcome:
    table: dict[str, Callable[[str, NftRuleset], Judgement]] = {
        "table_exists": lambda label, r: (
            bool(r.tables),
            f"{label}: tables {', '.join(' '.join(t) for t in r.tables) or 'none'}",
        ),
        "base_chains": _nft_base_chains,
        "rules_persistent": _nft_base_chains,
        "default_deny": _nft_default_deny,
        "loopback": _nft_loopback,
    }
    judge = _nft_ports(context) if assertion == "rules_for_open_ports" else table[assertion]
    sources, notes = _nft_sources(context, assertion == "rules_persistent")
    if not sources:
        return Outcome.failed("no nftables ruleset (running or persisted)", *notes)
    return _outcome([judge(label, ruleset) for label, ruleset in sources], notes)


# --- iptables -----------------------------------------------------------------------------------------------


def _has(rules: Iterable[str], *needles: str) -> bool:
    return any(
        all(re.search(rf"(^|\s){re.escape(needle)}(\s|$)", rule) for needle in needles) for rule in rules
    )


def _ipt_judge(tool: str, assertion: str, context: Context) -> Callable[[str, IptablesRules], Judgement]:
    local = IPTABLES[tool][2]

    def default_deny(label: str, rules: IptablesRules) -> Judgement:
        shown = ", ".join(
            f"{chain} {rules.policies.get(chain, 'none')}" for chain in ("INPUT", "FORWARD", "OUTPUT")
        )
        return all(
            rules.policies.get(chain) in ("DROP", "REJECT") for chain in ("INPUT", "FORWARD", "OUTPUT")
        ), f"{label}: policy {shown}"

    def loopback(label: str, rules: IptablesRules) -> Judgement:
        source = {local, f"{local}/128"} if ":" in local else {local}
        checks = {
            "INPUT -i lo -j ACCEPT": _has(rules.chain_rules("INPUT"), "-i lo", "-j ACCEPT"),
            "OUTPUT -o lo -j ACCEPT": _has(rules.chain_rules("OUTPUT"), "-o lo", "-j ACCEPT"),
            f"INPUT -s {local} -j DROP": any(
                _has(rules.chain_rules("INPUT"), f"-s {s}", "-j DROP") for s in source
            ),
        }
        missing = [name for name, ok in checks.items() if not ok]
        return not missing, f"{label}: " + (
            f"lacks {'; '.join(missing)}" if missing else "loopback rules present"
        )

    def ports(label: str, rules: IptablesRules) -> Judgement:
        found = [
            m.group(1) for rule in rules.chain_rules("INPUT") for m in re.finditer(r"--dports?\s+(\S+)", rule)
        ]
        return _ports_judgement(
            label, _numbers(item for text in found for item in text.split(",")), open_ports(context)
        )

    def persistent(label: str, rules: IptablesRules) -> Judgement:
        return bool(
            rules.policies
        ), f"{label}: {len(rules.policies)} chain policies, {len(rules.rules)} rules"

    judges = {
        "default_deny": default_deny,
        "loopback": loopback,
        "rules_for_open_ports": ports,
        "rules_persistent": persistent,
    }
    if assertion not in judges:
        raise ValueError(f"firewall assert {assertion} does not apply to {tool}")
    return judges[assertion]


def _iptables(context: Context, tool: str, assertion: str) -> Outcome:
    judge = _ipt_judge(tool, assertion, context)
    command, path, _ = IPTABLES[tool]
    notes: list[str] = []
    sources = []
    text = None if assertion == "rules_persistent" else _runtime_text(context, command, notes)
    if text is not None:
        sources.append((f"running ({command})", parse_iptables(text, command)))
    saved = context.view.read_text(path)
    if saved is not None:
        sources.append((path, parse_iptables(saved, path)))
    else:
        notes.append(f"{path}: missing")
    if not sources:
        return Outcome.failed(f"no {tool} rules (running or {path})", *notes)
    return _outcome([judge(label, rules) for label, rules in sources], notes)


# --- ufw ----------------------------------------------------------------------------------------------------


def _ufw_saved(context: Context) -> IptablesRules:
    merged = IptablesRules()
    for path in UFW_RULE_FILES:
        parsed = parse_iptables(context.view.read_text(path) or "", path)
        merged.rules.extend(parsed.rules)
    return merged


def _ufw_running(label: str, status: UfwStatus, assertion: str, context: Context) -> Judgement:
    if assertion == "default_deny":
        shown = (
            ", ".join(f"{policy} ({direction})" for direction, policy in status.defaults.items())
            or "no defaults shown"
        )
        ok = all(
            status.defaults.get(d) in ("deny", "reject", "disabled" if d == "routed" else "-")
            for d in ("incoming", "outgoing", "routed")
        )
        return ok, f"{label}: {shown}"
    if assertion == "loopback":
        lo = any("ALLOW IN" in rule and "on lo" in rule for rule in status.rules)
        local = any("DENY IN" in rule and "127.0.0.0/8" in rule for rule in status.rules)
        return (
            lo and local,
            f"{label}: allow in on lo {'yes' if lo else 'missing'}, deny in from 127.0.0.0/8 {'yes' if local else 'missing'}",
        )
    covered = _numbers(item for rule in status.rules for item in rule.split()[0].split("/")[0].split(","))
    return _ports_judgement(label, covered, open_ports(context))


def _ufw_persisted(context: Context, assertion: str) -> Judgement:
    if assertion == "default_deny":
        values = shell_values(context.view.read_text(UFW_DEFAULTS) or "")
        keys = ("DEFAULT_INPUT_POLICY", "DEFAULT_OUTPUT_POLICY", "DEFAULT_FORWARD_POLICY")
        ok = all(values.get(key, "").upper() in ("DROP", "REJECT") for key in keys)
        return ok, f"{UFW_DEFAULTS}: " + ", ".join(f"{key}={values.get(key, 'unset')}" for key in keys)
    rules = [rule for _, rule in _ufw_saved(context).rules]
    if assertion == "loopback":
        lo, local = _has(rules, "-i lo", "-j ACCEPT"), _has(rules, "-s 127.0.0.0/8", "-j DROP")
        return (
            lo and local,
            f"/etc/ufw rules: accept on lo {'yes' if lo else 'missing'}, drop from 127.0.0.0/8 {'yes' if local else 'missing'}",
        )
    found = [m.group(1) for rule in rules for m in re.finditer(r"--dports?\s+(\S+)", rule)]
    return _ports_judgement(
        "/etc/ufw/user.rules", _numbers(i for text in found for i in text.split(",")), open_ports(context)
    )


def _ufw(context: Context, assertion: str) -> Outcome:
    if assertion in ("table_exists", "base_chains"):
        raise ValueError(f"firewall assert {assertion} does not apply to ufw")
    enabled = shell_values(context.view.read_text(UFW_CONF) or "").get("ENABLED", "no").lower() == "yes"
    if assertion == "rules_persistent":
        return _outcome([(enabled, f"{UFW_CONF}: ENABLED={'yes' if enabled else 'no'}")], [])
    notes: list[str] = []
    text = _runtime_text(context, "ufw status verbose", notes)
    results = [_ufw_persisted(context, assertion)]
    if text is not None:
        results.append(_ufw_running("ufw status", parse_ufw_status(text), assertion, context))
    return _outcome(results, notes)


# --- which firewall is in use ---------------------------------------------------------------------------------


def in_use(context: Context, tool: str) -> tuple[bool, list[str]]:
    """Whether ``tool`` is the configured firewall, and the evidence."""
    if tool == "ufw":
        enabled = shell_values(context.view.read_text(UFW_CONF) or "").get("ENABLED", "no").lower() == "yes"
        status = context.runtime.command("ufw status verbose") if context.runtime is not None else None
        active = status is not None and parse_ufw_status(status).active
        return enabled or active, [f"{UFW_CONF}: ENABLED={'yes' if enabled else 'no'}"] + (
            ["ufw status: active"] if active else []
        )
    units = ("nftables.service",) if tool == "nftables" else IPTABLES_UNITS
    found = [_unit_in_use(context, unit) for unit in units]
    return any(used for used, _ in found), [line for _, line in found]


def single_active(context: Context) -> Outcome:
    used = {tool: in_use(context, tool) for tool in ("ufw", "nftables", "iptables")}
    active = [tool for tool, (yes, _) in used.items() if yes]
    evidence = [line for _, lines in used.values() for line in lines]
    if len(active) == 1:
        return Outcome.passed(f"firewall in use: {active[0]}", *evidence)
    summary = f"several firewalls in use: {', '.join(active)}" if active else "no firewall utility in use"
    return Outcome.failed(summary, *evidence)


def judge(context: Context, tool: str, assertion: str) -> Outcome:
    if tool == "nftables":
        if assertion not in (
            "table_exists",
            "base_chains",
            "rules_persistent",
            "default_deny",
            "loopback",
            "rules_for_open_ports",
        ):
            raise ValueError(f"firewall assert {assertion} does not apply to nftables")
        return _nft(context, assertion)
    if tool == "ufw":
        return _ufw(context, assertion)
    return _iptables(context, tool, assertion)
