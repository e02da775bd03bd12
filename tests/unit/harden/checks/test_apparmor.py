"""apparmor: profile modes from apparmor_status or the kernel's profile list; offline targets are na."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks.apparmor import CHECK, parse_profiles, parse_status
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

STATUS = (
    "apparmor module is loaded.\n10 profiles are loaded.\n8 profiles are in enforce mode.\n   /usr/bin/man\n"
    "2 profiles are in complain mode.\n   x\n0 profiles are in kill mode.\n0 profiles are in unconfined mode.\n"
    "1 processes have profiles defined.\n0 processes are unconfined but have a profile defined.\n"
)


def run(tmp_path: Path, assertion: str, **scenario: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECK.run({"assert": assertion}, Context(build_view(tmp_path, scenario)))


def host(output: str) -> dict[str, Any]:
    return {"kind": "host", "runtime": {"commands": {"apparmor_status": output}}}


def test_enforce_or_complain(tmp_path: Path) -> None:
    assert run(tmp_path, "profiles_enforce_or_complain", **host(STATUS)).status is Status.PASS
    assert run(tmp_path / "b", "profiles_enforce", **host(STATUS)).status is Status.FAIL


def test_unconfined_processes_fail(tmp_path: Path) -> None:
    output = STATUS.replace("0 processes are unconfined", "2 processes are unconfined")
    outcome = run(tmp_path, "profiles_enforce_or_complain", **host(output))
    assert outcome.status is Status.FAIL and "2 processes unconfined" in " ".join(outcome.evidence)


def test_offline_is_na(tmp_path: Path) -> None:
    outcome = run(tmp_path, "profiles_enforce")
    assert outcome.status is Status.NA and "running system" in outcome.reason


def test_profiles_file_when_the_tool_is_absent(tmp_path: Path) -> None:
    profiles = (
        "/usr/bin/man (enforce)\nname with spaces (enforce)\n\x1b[2Jjunk\n(unbalanced\nlsb_release (kill)\n"
    )
    outcome = run(
        tmp_path, "profiles_enforce", kind="host", files={"sys/kernel/security/apparmor/profiles": profiles}
    )
    assert outcome.status is Status.FAIL and "1 profiles in kill mode" in " ".join(outcome.evidence)


def test_not_loaded_fails(tmp_path: Path) -> None:
    assert run(tmp_path, "profiles_enforce", **host("apparmor module is not loaded.\n")).status is Status.FAIL
    assert run(tmp_path / "b", "profiles_enforce", kind="host").status is Status.FAIL


def test_parsers_survive_garbage() -> None:
    garbage = (
        "\x00" * 100 + "\n99999999999 profiles are loaded.\nprofiles are in enforce mode.\n" + "9" * 10_000
    )
    assert parse_status(garbage).loaded == 0
    assert parse_profiles(garbage).loaded == 0
    assert parse_status(STATUS).modes == {"enforce": 8, "complain": 2, "kill": 0, "unconfined": 0}
