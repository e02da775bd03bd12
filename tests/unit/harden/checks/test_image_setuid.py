"""image_setuid: setuid/setgid files listed for review, or judged against an allowed list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks.image_setuid import CHECK
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_image import image_context
from unit.harden.fixture_root import build_view

FILES = {
    "usr/bin/passwd": {"content": "elf", "mode": 0o4755},
    "usr/bin/wall": {"content": "elf", "mode": 0o2755, "gid": 5},
    "opt/app/tool": {"content": "elf", "mode": 0o6711, "uid": 1000, "gid": 1000},
    "usr/bin/ls": {"content": "elf", "mode": 0o755},
}


def _run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    return CHECK.run(params, image_context(tmp_path, scenario))


def test_without_an_allowed_list_the_files_are_listed_for_review(tmp_path: Path) -> None:
    outcome = _run(tmp_path, {"files": FILES})
    assert outcome.status is Status.MANUAL
    assert outcome.evidence == (
        "/opt/app/tool: setuid+setgid, mode 6711, owner 1000:1000",
        "/usr/bin/passwd: setuid, mode 4755, owner 0:0",
        "/usr/bin/wall: setgid, mode 2755, owner 0:5",
    )


def test_an_allowed_list_passes_or_fails(tmp_path: Path) -> None:
    assert _run(tmp_path, {"files": FILES}, allowed=["/usr/bin/*", "/opt/app/tool"]).status is Status.PASS
    outcome = _run(tmp_path, {"files": FILES}, allowed=["/usr/bin/*"])
    assert outcome.status is Status.FAIL
    assert outcome.evidence == (
        "1 setuid/setgid files outside the allowed list",
        "/opt/app/tool: setuid+setgid, mode 6711, owner 1000:1000",
    )


def test_no_special_files_pass_and_directories_do_not_count(tmp_path: Path) -> None:
    scenario = {"dirs": {"srv/shared": {"mode": 0o2775}}, "links": {"usr/bin/su": "/usr/bin/passwd"}}
    assert _run(tmp_path, scenario).status is Status.PASS


def test_not_an_image_is_na(tmp_path: Path) -> None:
    assert CHECK.run({}, Context(build_view(tmp_path, {}))).status is Status.NA
