"""The package check over dpkg, apk and rpm databases; no database is an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.facts.packages import installed_packages
from rampart.harden.model import Outcome, Status
from rampart.harden.view import ViewError
from unit.harden.fixture_root import build_view


def run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECKS["package"].run(params, Context(build_view(tmp_path, scenario)))


def test_installed_and_absent(tmp_path: Path) -> None:
    scenario = {"packages": ["openssh-server", "telnet"]}
    assert run(tmp_path, scenario, names=["telnet", "inetutils-telnet"], state="absent").status is Status.FAIL
    assert run(tmp_path / "b", scenario, names=["rsh-client"], state="absent").status is Status.PASS
    assert run(tmp_path / "c", scenario, names=["openssh-server"]).status is Status.PASS


def test_removed_but_configured_is_not_installed(tmp_path: Path) -> None:
    status = "Package: ufw\nStatus: deinstall ok config-files\nVersion: 0.36\n\nPackage: bash\nStatus: install ok installed\nVersion: 5.2\n"
    assert run(tmp_path, {"files": {"var/lib/dpkg/status": status}}, names=["ufw"]).status is Status.FAIL


def test_status_d_entries(tmp_path: Path) -> None:
    files = {
        "var/lib/dpkg/status.d/base": "Package: base-files\nVersion: 12.4\n",
        "var/lib/dpkg/status.d/base.md5sums": "x",
    }
    assert run(tmp_path, {"files": files}, names=["base-files"]).status is Status.PASS


def test_malformed_stanzas_are_noted(tmp_path: Path) -> None:
    status = "Package: telnet\nStatus: install ok installed\nVersion: 1\n\n\x00garbage line\n\nPackage: Bad Name\nVersion: ?\n"
    outcome = run(tmp_path, {"files": {"var/lib/dpkg/status": status}}, names=["telnet"], state="absent")
    assert outcome.status is Status.FAIL
    assert any("malformed stanza" in line for line in outcome.evidence)


def test_apk_database_and_manager_mismatch(tmp_path: Path) -> None:
    scenario = {"base": "none", "files": {"lib/apk/db/installed": "P:busybox\nV:1.36.1-r2\n"}}
    assert run(tmp_path, scenario, names=["busybox"]).status is Status.PASS
    outcome = run(tmp_path / "b", scenario, names=["telnet"], state="absent", manager="dpkg")
    assert outcome.status is Status.NA
    assert "the target uses apk" in outcome.reason


def test_no_database_raises_view_error(tmp_path: Path) -> None:
    context = Context(build_view(tmp_path, {"base": "none"}))
    with pytest.raises(ViewError, match="no package database"):
        installed_packages(context)


def test_memoized_once_per_run(tmp_path: Path) -> None:
    context = Context(build_view(tmp_path, {"packages": ["bash"]}))
    assert installed_packages(context) is installed_packages(context)


def test_rpm_database_through_directory(tmp_path: Path) -> None:
    outcome_error = None
    try:
        run(tmp_path, {"base": "none", "files": {"var/lib/rpm/rpmdb.sqlite": "not sqlite"}}, names=["bash"])
    except ViewError as exc:
        outcome_error = exc.message
    assert outcome_error is not None and "package database unreadable" in outcome_error
