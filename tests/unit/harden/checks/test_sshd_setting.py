"""The sshd_setting check: Include expansion, first value wins, Match blocks, defaults, list ops, hostile configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks import CHECKS
from rampart.harden.checks.sshd_setting import effective_list, seconds
from rampart.harden.context import Context
from rampart.harden.facts.sshd import read_sshd
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

TRIES = {"key": "MaxAuthTries", "op": "le", "value": 4, "default": 6}


def run(tmp_path: Path, files: dict[str, Any], params: dict[str, Any] = TRIES, **scenario: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECKS["sshd_setting"].run(
        dict(params), Context(build_view(tmp_path, {"files": files, **scenario}))
    )


def test_dropin_included_first_wins_over_main_file(tmp_path: Path) -> None:
    files = {
        "etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nMaxAuthTries 10\n",
        "etc/ssh/sshd_config.d/50-a.conf": "MaxAuthTries 3\n",
        "etc/ssh/sshd_config.d/60-b.conf": "MaxAuthTries 9\n",
    }
    outcome = run(tmp_path, files)
    assert outcome.status is Status.PASS
    assert "/etc/ssh/sshd_config.d/50-a.conf:1: MaxAuthTries 3" in outcome.evidence
    assert any("60-b.conf:1: also set, ignored" in line for line in outcome.evidence)


def test_relative_include_resolves_under_etc_ssh(tmp_path: Path) -> None:
    files = {"etc/ssh/sshd_config": "include conf.d/x.conf\n", "etc/ssh/conf.d/x.conf": "maxauthtries=2\n"}
    assert run(tmp_path, files).status is Status.PASS


def test_include_after_setting_does_not_override(tmp_path: Path) -> None:
    files = {
        "etc/ssh/sshd_config": "MaxAuthTries 8\nInclude /etc/ssh/sshd_config.d/*.conf\n",
        "etc/ssh/sshd_config.d/a.conf": "MaxAuthTries 3\n",
    }
    assert run(tmp_path, files).status is Status.FAIL


def test_match_block_is_noted_not_applied(tmp_path: Path) -> None:
    files = {"etc/ssh/sshd_config": "Match User bob\n  MaxAuthTries 20\n"}
    outcome = run(tmp_path, files)
    assert outcome.status is Status.FAIL
    assert "MaxAuthTries not set; sshd default 6" in outcome.evidence
    assert any("Match block" in line for line in outcome.evidence)


def test_include_inside_match_block_counts_as_match(tmp_path: Path) -> None:
    files = {
        "etc/ssh/sshd_config": "Match Group admins\nInclude /etc/ssh/m.conf\n",
        "etc/ssh/m.conf": "MaxAuthTries 2\n",
    }
    config = read_sshd(build_view(tmp_path, {"files": files}))
    assert "maxauthtries" not in config.settings
    assert config.matched["maxauthtries"] == ["/etc/ssh/m.conf:1"]


def test_include_loop_terminates_with_a_note(tmp_path: Path) -> None:
    files = {
        "etc/ssh/sshd_config": "Include /etc/ssh/a.conf\n",
        "etc/ssh/a.conf": "Include /etc/ssh/b.conf\n",
        "etc/ssh/b.conf": "Include /etc/ssh/a.conf\nMaxAuthTries 3\n",
    }
    outcome = run(tmp_path, files)
    assert outcome.status is Status.PASS
    assert any("Include loop" in line for line in outcome.evidence)


def test_self_including_glob_terminates(tmp_path: Path) -> None:
    files = {"etc/ssh/sshd_config": "Include /etc/ssh/*\nMaxAuthTries 3\n"}
    assert run(tmp_path, files).status is Status.PASS


def test_include_through_symlink_cannot_leave_the_root(tmp_path: Path) -> None:
    secret = tmp_path / "outside.conf"
    secret.write_text("MaxAuthTries 1\n")
    files = {"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n"}
    links = {
        "etc/ssh/sshd_config.d/evil.conf": str(secret),
        "etc/ssh/sshd_config.d/up.conf": "../../../../outside.conf",
    }
    outcome = run(tmp_path / "t", files, links=links)
    assert outcome.status is Status.FAIL
    assert "MaxAuthTries not set; sshd default 6" in outcome.evidence
    assert any("included but missing" in line for line in outcome.evidence)


def test_huge_and_binary_config_does_not_crash(tmp_path: Path) -> None:
    body = "\x00\x1b[31m\xff garbage\n" * 50_000 + "MaxAuthTries 3\n"
    outcome = run(tmp_path, {"etc/ssh/sshd_config": body})
    assert outcome.status is Status.PASS
    assert len(outcome.evidence) < 20


def test_oversized_config_is_noted_not_read(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        {"etc/ssh/sshd_config": "Port 22\n", "etc/ssh/big.conf": "#" * (5 << 20)},
        {**TRIES, "missing": "fail"},
    )
    assert outcome.status is Status.FAIL
    files = {
        "etc/ssh/sshd_config": "Include /etc/ssh/big.conf\nMaxAuthTries 3\n",
        "etc/ssh/big.conf": "#" * (5 << 20),
    }
    outcome = run(tmp_path / "b", files)
    assert outcome.status is Status.PASS
    assert any("larger than" in line for line in outcome.evidence)


def test_escape_sequences_in_values_are_kept_for_the_reporters(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"etc/ssh/sshd_config": "MaxAuthTries \x1b]0;x\x07\n"})
    assert outcome.status is Status.FAIL
    assert any("\x1b]0;x\x07" in line for line in outcome.evidence)  # kept raw: reporters escape


def test_missing_config_is_na_or_fail_or_defaults(tmp_path: Path) -> None:
    assert run(tmp_path / "a", {}).status is Status.NA
    assert run(tmp_path / "b", {}, {**TRIES, "missing": "fail"}).status is Status.FAIL
    assert run(tmp_path / "c", {}, {**TRIES, "missing": "defaults", "default": 3}).status is Status.PASS


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [
        ("aes128-ctr,aes256-cbc", "", ["aes128-ctr", "aes256-cbc"]),
        ("+3des-cbc", "aes128-ctr", ["aes128-ctr", "3des-cbc"]),
        ("^3des-cbc", "aes128-ctr", ["3des-cbc", "aes128-ctr"]),
        ("-aes128-ctr", "aes128-ctr,aes256-ctr", ["aes256-ctr"]),
    ],
)
def test_effective_list(value: str, default: str, expected: list[str]) -> None:
    assert effective_list(value, default) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("90", "90"), ("1m30s", "90"), ("2h", "7200"), ("1x", "1x"), ("", "")]
)
def test_time_values(text: str, expected: str) -> None:
    assert seconds(text) == expected


def test_live_sshd_t_disagreeing_with_files_fails(tmp_path: Path) -> None:
    runtime = {"commands": {"sshd -T": "maxauthtries 6\n"}}
    outcome = run(tmp_path, {"etc/ssh/sshd_config": "MaxAuthTries 3\n"}, kind="host", runtime=runtime)
    assert outcome.status is Status.FAIL
    assert "sshd -T: maxauthtries 6 (differs from the files)" in outcome.evidence


def test_offline_target_says_runtime_not_checked(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"etc/ssh/sshd_config": "MaxAuthTries 3\n"})
    assert "runtime not checked (offline target)" in outcome.evidence


def test_none_of_reports_the_weak_items(tmp_path: Path) -> None:
    params = {"key": "Ciphers", "op": "none_of", "value": ["aes128-cbc", "3des-cbc"], "default": "aes128-ctr"}
    outcome = run(tmp_path, {"etc/ssh/sshd_config": "Ciphers AES128-CBC,aes256-ctr,3des-cbc\n"}, params)
    assert outcome.status is Status.FAIL
    assert any("weak: aes128-cbc, 3des-cbc" in line for line in outcome.evidence)


def test_unknown_parameter_is_rejected(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run(tmp_path, {}, {**TRIES, "bogus": 1})


def test_include_of_a_directory_is_noted(tmp_path: Path) -> None:
    files = {"etc/ssh/sshd_config": "Include /etc/ssh/d\nMaxAuthTries 3\n"}
    outcome = run(tmp_path, files, dirs={"etc/ssh/d": {}})
    assert outcome.status is Status.PASS
    assert any(line.startswith("/etc/ssh/d: ") for line in outcome.evidence)
