"""image_healthcheck: a runnable test passes, none or NONE fails; the command's arguments are never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks.image_healthcheck import CHECK
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_image import build_image_view
from unit.harden.fixture_root import build_view


def _run(tmp_path: Path, config: dict[str, Any]) -> Outcome:
    return CHECK.run({}, Context(build_image_view(tmp_path, {"kind": "image", "image": {"config": config}})))


@pytest.mark.parametrize(
    "health",
    [None, {}, {"Test": None}, {"Test": []}, {"Test": ["NONE"]}, {"Test": ["CMD"]}, {"Test": ["RUN", "x"]},
     {"Test": ["CMD", 1]}, "CMD true", ["CMD", "true"]],
)  # fmt: skip
def test_missing_disabled_or_malformed_checks_fail(tmp_path: Path, health: Any) -> None:
    config = {} if health is None else {"Healthcheck": health}
    assert _run(tmp_path, config).status is Status.FAIL


def test_a_runnable_check_passes_without_showing_its_arguments(tmp_path: Path) -> None:
    outcome = _run(tmp_path, {"Healthcheck": {"Test": ["CMD-SHELL", "curl -u admin:hunter2 http://x/"]}})
    assert outcome.status is Status.PASS
    assert "curl" in outcome.evidence[0]
    assert "hunter2" not in " ".join(outcome.evidence)


def test_no_params_are_accepted(tmp_path: Path) -> None:
    view = build_image_view(tmp_path, {"kind": "image"})
    with pytest.raises(ValueError, match="extra"):
        CHECK.run({"bogus": 1}, Context(view))


def test_not_an_image_is_na(tmp_path: Path) -> None:
    assert CHECK.run({}, Context(build_view(tmp_path, {}))).status is Status.NA
