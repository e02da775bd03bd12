"""image_user: config.User judged, names resolved through the image's own passwd, garbage survived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks.image_user import CHECK
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_image import build_image_view
from unit.harden.fixture_root import build_view


def _run(tmp_path: Path, user: Any, passwd: str | None = None, **params: Any) -> Outcome:
    scenario: dict[str, Any] = {"kind": "image", "image": {"config": {} if user is None else {"User": user}}}
    if passwd is not None:
        scenario["files"] = {"etc/passwd": passwd}
    where = tmp_path / str(len(list(tmp_path.iterdir())))
    where.mkdir()
    return CHECK.run(params, Context(build_image_view(where, scenario)))


@pytest.mark.parametrize("user", [None, "", "   ", "root", "0", "0:0", "root:1000", "00", 0, ["app"]])
def test_root_or_unset_users_fail(tmp_path: Path, user: Any) -> None:
    assert _run(tmp_path, user).status is Status.FAIL


@pytest.mark.parametrize("user", ["nobody", "65534", "1000:1000", "daemon:daemon", "daemon:0"])
def test_unprivileged_users_pass(tmp_path: Path, user: str) -> None:
    assert _run(tmp_path, user).status is Status.PASS


def test_a_name_with_uid_0_in_the_image_passwd_fails_naming_the_line(tmp_path: Path) -> None:
    outcome = _run(tmp_path, "admin", "root:x:0:0::/root:/bin/sh\nadmin:x:0:0::/home/admin:/bin/sh\n")
    assert outcome.status is Status.FAIL
    assert "/etc/passwd:2 gives the user uid 0" in outcome.evidence[0]


def test_a_name_missing_from_passwd_fails(tmp_path: Path) -> None:
    outcome = _run(tmp_path, "ghost")
    assert outcome.status is Status.FAIL
    assert "no such user" in outcome.evidence[0]


def test_the_root_group_fails_only_when_not_allowed(tmp_path: Path) -> None:
    assert _run(tmp_path, "daemon:root", allow_root_group=False).status is Status.FAIL
    assert _run(tmp_path, "daemon:0", allow_root_group=False).status is Status.FAIL
    assert _run(tmp_path, "daemon:daemon", allow_root_group=False).status is Status.PASS


def test_garbage_passwd_lines_are_noted_not_fatal(tmp_path: Path) -> None:
    garbage = "\x00\xff" * 1000 + "\n::::\nx:x:notanumber:0::/:/bin/sh\napp:x:1001:1001::/home/app:/bin/sh\n"
    outcome = _run(tmp_path, "app", garbage)
    assert outcome.status is Status.PASS
    assert "uid 1001" in outcome.evidence[0]
    assert any("malformed line skipped" in line for line in outcome.evidence)


def test_hostile_user_text_is_escaped_in_evidence(tmp_path: Path) -> None:
    outcome = _run(tmp_path, "\x1b[31mevil" + "x" * 500)
    assert outcome.status is Status.FAIL
    assert "\x1b" not in outcome.evidence[0] and len(outcome.evidence[0]) < 300


def test_not_an_image_is_na(tmp_path: Path) -> None:
    view = build_view(tmp_path, {})
    assert CHECK.run({}, Context(view)).status is Status.NA
