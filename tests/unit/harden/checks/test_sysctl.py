"""The sysctl check: precedence of sysctl.d, runtime versus persisted, hostile configuration files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

ASLR = {"name": "kernel.randomize_va_space", "value": 2}


def run(tmp_path: Path, scenario: dict[str, Any], params: dict[str, Any] = ASLR) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECKS["sysctl"].run(dict(params), Context(build_view(tmp_path, scenario)))


def test_etc_file_hides_vendor_file_of_the_same_name(tmp_path: Path) -> None:
    files = {
        "usr/lib/sysctl.d/10-x.conf": "kernel.randomize_va_space = 0\n",
        "etc/sysctl.d/10-x.conf": "kernel.randomize_va_space=2\n",
    }
    assert run(tmp_path, {"files": files}).status is Status.PASS


def test_later_file_wins_and_is_named(tmp_path: Path) -> None:
    files = {
        "etc/sysctl.d/10-a.conf": "kernel.randomize_va_space = 2\n",
        "usr/lib/sysctl.d/90-b.conf": "kernel.randomize_va_space = 1\n",
    }
    outcome = run(tmp_path, {"files": files})
    assert outcome.status is Status.FAIL
    assert "/usr/lib/sysctl.d/90-b.conf:1: kernel.randomize_va_space = 1 (wanted = 2)" in outcome.evidence


def test_sysctl_conf_applies_last_unless_linked(tmp_path: Path) -> None:
    files = {
        "etc/sysctl.d/10-a.conf": "kernel.randomize_va_space = 2\n",
        "etc/sysctl.conf": "kernel.randomize_va_space = 0\n",
    }
    assert run(tmp_path, {"files": files}).status is Status.FAIL
    linked = {"etc/sysctl.d/99-sysctl.conf": "../sysctl.conf", "etc/sysctl.d/zz.conf": "x"}
    files = {
        "etc/sysctl.conf": "kernel.randomize_va_space = 0\n",
        "etc/sysctl.d/zz-last.conf": "kernel.randomize_va_space = 2\n",
    }
    assert (
        run(
            tmp_path / "b", {"files": files, "links": {"etc/sysctl.d/99-sysctl.conf": "../sysctl.conf"}}
        ).status
        is Status.PASS
    )
    assert linked


def test_globs_slashes_and_ignore_errors_prefix(tmp_path: Path) -> None:
    files = {"etc/sysctl.d/50.conf": "-net/ipv4/conf/*/rp_filter = 1\n"}
    params = {"name": "net.ipv4.conf.all.rp_filter", "value": 1}
    assert run(tmp_path, {"files": files}, params).status is Status.PASS


def test_garbage_lines_are_noted_not_fatal(tmp_path: Path) -> None:
    text = (
        "\x00\x01binary\nno equals sign\n= 3\nkernel.randomize va = 2\n"
        + "x" * 100_000
        + "\nkernel.randomize_va_space = 2\n"
    )
    outcome = run(tmp_path, {"files": {"etc/sysctl.d/60.conf": text}})
    assert outcome.status is Status.PASS
    assert any("not 'key = value', skipped" in line for line in outcome.evidence)
    assert len(outcome.evidence) < 10


def test_truncated_file_without_newline(tmp_path: Path) -> None:
    assert (
        run(tmp_path, {"files": {"etc/sysctl.d/60.conf": "kernel.randomize_va_space = 2"}}).status
        is Status.PASS
    )
    assert (
        run(tmp_path / "b", {"files": {"etc/sysctl.d/60.conf": "kernel.randomize_va_space ="}}).status
        is Status.FAIL
    )


def test_oversized_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    from rampart.harden.engine import evaluate_rule
    from rampart.harden.model import CheckSpec, Level, Rule

    view = build_view(tmp_path, {"files": {"etc/sysctl.d/60.conf": "#" * (5 << 20)}})
    rule = Rule("t.x", "t", "r", Level.LOW, "s", CheckSpec("sysctl", ASLR))
    outcome = evaluate_rule(rule, Context(view))
    assert outcome.status is Status.ERROR
    assert "larger than" in outcome.reason


def test_runtime_and_persisted_differ_shows_both(tmp_path: Path) -> None:
    scenario = {
        "kind": "host",
        "files": {"etc/sysctl.d/60.conf": "kernel.randomize_va_space = 2\n"},
        "runtime": {"sysctl": {"kernel.randomize_va_space": "0"}},
    }
    outcome = run(tmp_path, scenario)
    assert outcome.status is Status.FAIL
    assert outcome.evidence[:2] == (
        "/etc/sysctl.d/60.conf:1: kernel.randomize_va_space = 2",
        "running: kernel.randomize_va_space = 0 (wanted = 2)",
    )


def test_missing_kernel_key_is_na_and_offline_is_said(tmp_path: Path) -> None:
    assert run(tmp_path, {"kind": "host", "runtime": {"sysctl": {}}}).status is Status.NA
    outcome = run(tmp_path / "b", {"files": {"etc/sysctl.d/60.conf": "kernel.randomize_va_space = 2\n"}})
    assert "runtime not checked (offline target)" in outcome.evidence


def test_ops_and_runtime_only(tmp_path: Path) -> None:
    scenario = {"kind": "host", "runtime": {"sysctl": {"kernel.yama.ptrace_scope": "2"}}}
    assert (
        run(
            tmp_path,
            scenario,
            {"name": "kernel.yama.ptrace_scope", "op": "ge", "value": 1, "persisted": False},
        ).status
        is Status.PASS
    )
    assert (
        run(
            tmp_path / "b",
            scenario,
            {"name": "kernel.yama.ptrace_scope", "op": "in", "value": [1, 3], "persisted": False},
        ).status
        is Status.FAIL
    )
    assert (
        run(
            tmp_path / "c",
            scenario,
            {"name": "kernel.yama.ptrace_scope", "op": "lt", "value": "x", "persisted": False},
        ).status
        is Status.FAIL
    )
