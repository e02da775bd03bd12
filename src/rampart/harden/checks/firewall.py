"""``firewall``: one assertion about one firewall tool (nftables, iptables, ip6tables, ufw).

The running rules come from runtime.command (``nft list ruleset``, ``iptables -S``, ``ip6tables -S``,
``ufw status verbose``); the persisted ones from /etc/nftables.conf (with includes), /etc/iptables/rules.v4|v6,
and /etc/ufw (ufw.conf, /etc/default/ufw, user.rules, user6.rules, before.rules). Live, both are judged and
both must pass; offline, or when the running rules cannot be read (not root), the persisted ones alone, said in
evidence. A ruleset that does not parse (unbalanced braces) is an error, not a verdict.

Assertions: default_deny, loopback, table_exists, base_chains, rules_for_open_ports (needs a running system),
rules_persistent, single_active (exactly one of ufw, nftables, iptables in use; ``tool`` not needed) and
in_use (the tool is the configured firewall: rules use it as their precondition).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rampart.harden.checks import firewall_asserts as fw
from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.model import Outcome

Tool = Literal["nftables", "iptables", "ip6tables", "ufw"]
Assertion = Literal[
    "default_deny",
    "loopback",
    "table_exists",
    "base_chains",
    "rules_for_open_ports",
    "rules_persistent",
    "single_active",
    "in_use",
]


class FirewallParams(Params):
    tool: Tool | None = None
    assert_: Assertion = Field(alias="assert")


def evaluate(params: FirewallParams, context: Context) -> Outcome:
    if params.assert_ == "single_active":
        return fw.single_active(context)
    if params.tool is None:
        raise ValueError(f"firewall assert {params.assert_} needs a tool")
    if params.assert_ == "in_use":
        used, evidence = fw.in_use(context, params.tool)
        return (
            Outcome.passed(*evidence)
            if used
            else Outcome.not_applicable(f"{params.tool} is not the firewall in use", *evidence)
        )
    if params.assert_ == "rules_for_open_ports" and context.runtime is None:
        return Outcome.not_applicable("needs a running system; the target is offline")
    return fw.judge(context, params.tool, params.assert_)


CHECK = CheckType(
    "firewall",
    FirewallParams,
    evaluate,
    "a firewall's rules: default deny, loopback, open ports, persistence",
)
