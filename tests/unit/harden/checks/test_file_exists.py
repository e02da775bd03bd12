"""file_exists: presence and absence, globs, dangling links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks.file_exists import CHECK
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view


def run(tmp_path: Path, params: dict[str, Any], scenario: dict[str, Any] | None = None) -> Outcome:
    return CHECK.run(params, Context(build_view(tmp_path, scenario or {})))


def test_present_and_absent(tmp_path: Path) -> None:
    view = build_view(tmp_path, {"files": {"etc/cron.allow": "root\n"}})
    context = Context(view)
    assert CHECK.run({"path": "/etc/cron.allow"}, context).status is Status.PASS
    assert CHECK.run({"path": "/etc/cron.allow", "exists": False}, context).status is Status.FAIL
    assert CHECK.run({"path": "/etc/cron.deny"}, context).status is Status.FAIL
    assert CHECK.run({"path": "/etc/cron.deny", "exists": False}, context).status is Status.PASS


def test_glob(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"path": "/var/lib/aide/aide.db*"}, {"files": {"var/lib/aide/aide.db.gz": ""}})
    assert outcome.status is Status.PASS and "aide.db.gz" in outcome.evidence[0]


def test_dangling_link_does_not_exist(tmp_path: Path) -> None:
    assert (
        run(tmp_path, {"path": "/etc/at.allow"}, {"links": {"etc/at.allow": "/missing"}}).status
        is Status.FAIL
    )


def test_directory_counts(tmp_path: Path) -> None:
    assert run(tmp_path, {"path": "/etc/sudoers.d"}, {"dirs": {"etc/sudoers.d": {}}}).status is Status.PASS


def test_name_with_control_characters_is_escaped(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"path": "/etc/x*"}, {"files": {"etc/x\x07\x1b]0;": ""}})
    assert outcome.status is Status.PASS
    assert "\x1b" in outcome.evidence[0] and "\x07" in outcome.evidence[0]  # kept raw: reporters escape
