"""The firewall check and its parsers: nftables, iptables and ufw, running and persisted, hostile rulesets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.context import Context
from rampart.harden.facts.firewall import parse_iptables, parse_nft, parse_ufw_status
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

NFT = """table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    iifname "lo" accept
    ip saddr 127.0.0.0/8 drop
    ip6 saddr ::1 drop
    tcp dport { 22, 8000-8010 } accept
  }
  chain forward { type filter hook forward priority 0; policy drop; }
  chain output {
    type filter hook output priority 0
    policy drop
  }
}
"""
UNIT = {"usr/lib/systemd/system/nftables.service": "[Install]\nWantedBy=sysinit.target\n"}
WANTS = {
    "etc/systemd/system/sysinit.target.wants/nftables.service": "/usr/lib/systemd/system/nftables.service"
}


def run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    from rampart.harden.engine import evaluate_rule
    from rampart.harden.model import CheckSpec, Level, Rule

    rule = Rule("t.fw", "t", "r", Level.LOW, "s", CheckSpec("firewall", params))
    return evaluate_rule(rule, Context(build_view(tmp_path, scenario)))


def test_nft_parser_reads_chains_policies_and_multiline_sets() -> None:
    ruleset = parse_nft(
        NFT + "table ip nat {\n chain post { type nat hook postrouting priority 100; }\n}\n", "t"
    )
    assert ruleset.tables == [("inet", "filter"), ("ip", "nat")]
    assert [(c.name, c.hook, c.policy) for c in ruleset.chains][:3] == [
        ("input", "input", "drop"),
        ("forward", "forward", "drop"),
        ("output", "output", "drop"),
    ]
    assert ruleset.base_chains("postrouting") == []
    assert ruleset.problems == []
    multi = parse_nft(
        "table inet f {\n chain input {\n  type filter hook input priority 0;\n  tcp dport {\n 22,\n 80 } accept\n }\n}\n",
        "m",
    )
    assert multi.chains[0].rules == ["tcp dport { 22, 80 } accept"]


def test_nft_parser_survives_garbage() -> None:
    text = "}\n\x00\x01\x02\ntable\nchain x {\n" + "{" * 1000 + "\n" + "nonsense words here\n" * 1000
    ruleset = parse_nft(text, "g")
    assert ruleset.unbalanced
    assert parse_nft("", "e").tables == []


def test_nft_default_deny_running_and_persisted(tmp_path: Path) -> None:
    scenario = {
        "kind": "host",
        "files": {"etc/nftables.conf": NFT},
        "runtime": {"commands": {"nft list ruleset": NFT.replace("policy drop; }", "policy accept; }")}},
    }
    outcome = run(tmp_path, scenario, tool="nftables", **{"assert": "default_deny"})
    assert outcome.status is Status.FAIL
    assert "running ruleset: policy input drop, forward accept, output drop" in outcome.evidence
    assert "/etc/nftables.conf: policy input drop, forward drop, output drop" in outcome.evidence


def test_nft_unparsable_ruleset_is_an_error(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        {"files": {"etc/nftables.conf": "table inet filter {\n chain input {\n"}},
        tool="nftables",
        **{"assert": "loopback"},
    )
    assert outcome.status is Status.ERROR
    assert "does not parse" in outcome.reason


def test_nft_includes_and_unreadable_runtime(tmp_path: Path) -> None:
    files = {
        "etc/nftables.conf": 'flush ruleset\ninclude "/etc/nftables.d/*.nft"\n',
        "etc/nftables.d/a.nft": NFT,
    }
    outcome = run(
        tmp_path,
        {"kind": "host", "files": files, "runtime": {}},
        tool="nftables",
        **{"assert": "base_chains"},
    )
    assert outcome.status is Status.PASS
    assert any("running rules not read" in line for line in outcome.evidence)


def test_nft_include_loop_is_bounded(tmp_path: Path) -> None:
    files = {"etc/nftables.conf": 'include "/etc/nftables.conf"\n' + NFT}
    assert (
        run(tmp_path, {"files": files}, tool="nftables", **{"assert": "table_exists"}).status is Status.PASS
    )


def test_open_ports_needs_runtime_and_reads_sets_and_ranges(tmp_path: Path) -> None:
    assert (
        run(
            tmp_path,
            {"files": {"etc/nftables.conf": NFT}},
            tool="nftables",
            **{"assert": "rules_for_open_ports"},
        ).status
        is Status.NA
    )
    listening = [
        {"protocol": "tcp", "address": "0.0.0.0", "port": 22},
        {"protocol": "tcp", "address": "0.0.0.0", "port": 8005},
        {"protocol": "udp", "address": "127.0.0.1", "port": 53},
    ]
    scenario = {
        "kind": "host",
        "files": {"etc/nftables.conf": NFT},
        "runtime": {"listening": listening, "commands": {"nft list ruleset": NFT}},
    }
    assert (
        run(tmp_path / "b", scenario, tool="nftables", **{"assert": "rules_for_open_ports"}).status
        is Status.PASS
    )


def test_iptables_parser_formats() -> None:
    saved = parse_iptables(
        "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT\nCOMMIT\n*filter\n:INPUT DROP [1:2]\n-A INPUT -i lo -j ACCEPT\nbogus\nCOMMIT\n",
        "s",
    )
    assert saved.policies == {"INPUT": "DROP"}
    assert saved.chain_rules("INPUT") == ["-i lo -j ACCEPT"]
    assert saved.problems == ["s:8: not an iptables rule, skipped"]
    listed = parse_iptables("-P INPUT ACCEPT\n-N custom\n-A custom -j RETURN\n", "l")
    assert listed.policies == {"INPUT": "ACCEPT"} and listed.problems == []


def test_ip6tables_loopback(tmp_path: Path) -> None:
    good = "*filter\n:INPUT DROP\n:FORWARD DROP\n:OUTPUT DROP\n-A INPUT -i lo -j ACCEPT\n-A INPUT -s ::1/128 -j DROP\n-A OUTPUT -o lo -j ACCEPT\nCOMMIT\n"
    assert (
        run(
            tmp_path, {"files": {"etc/iptables/rules.v6": good}}, tool="ip6tables", **{"assert": "loopback"}
        ).status
        is Status.PASS
    )
    bad = good.replace("-A INPUT -s ::1/128 -j DROP\n", "")
    outcome = run(
        tmp_path / "b", {"files": {"etc/iptables/rules.v6": bad}}, tool="ip6tables", **{"assert": "loopback"}
    )
    assert outcome.status is Status.FAIL
    assert any("INPUT -s ::1 -j DROP" in line for line in outcome.evidence)


def test_wrong_assertion_for_tool_is_an_error(tmp_path: Path) -> None:
    assert run(tmp_path, {}, tool="iptables", **{"assert": "base_chains"}).status is Status.ERROR
    assert run(tmp_path / "b", {}, **{"assert": "loopback"}).status is Status.ERROR


def test_ufw_status_parser() -> None:
    status = parse_ufw_status(
        "Status: active\nDefault: deny (incoming), allow (outgoing), disabled (routed)\n\nTo Action From\n-- ------ ----\n22/tcp ALLOW IN Anywhere\n"
    )
    assert status.active and status.defaults == {
        "incoming": "deny",
        "outgoing": "allow",
        "routed": "disabled",
    }
    assert status.rules == ["22/tcp ALLOW IN Anywhere"]
    assert parse_ufw_status("\x00garbage\n--\n").active is False


def test_in_use_and_single_active(tmp_path: Path) -> None:
    nft = {"files": UNIT, "links": WANTS}
    assert run(tmp_path, nft, tool="nftables", **{"assert": "in_use"}).status is Status.PASS
    assert run(tmp_path / "b", nft, tool="ufw", **{"assert": "in_use"}).status is Status.NA
    assert run(tmp_path / "c", nft, **{"assert": "single_active"}).status is Status.PASS
    both = {"files": {**UNIT, "etc/ufw/ufw.conf": "ENABLED=yes\n"}, "links": WANTS}
    assert run(tmp_path / "d", both, **{"assert": "single_active"}).status is Status.FAIL
