"""image_secrets: names and values that look secret fail; the value never reaches the outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks.image_secrets import CHECK
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_image import image_context
from unit.harden.fixture_root import build_view

AWS_ID = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5" * 4
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow==\n-----END RSA PRIVATE KEY-----"


def _run(tmp_path: Path, env: Any = None, labels: Any = None, **params: Any) -> Outcome:
    config = {key: value for key, value in (("Env", env), ("Labels", labels)) if value is not None}
    return CHECK.run(params, image_context(tmp_path, {"image": {"config": config}}))


def _text(outcome: Outcome) -> str:
    return " ".join((outcome.reason, *outcome.evidence))


@pytest.mark.parametrize(
    ("entry", "value"),
    [("DB_PASSWORD", "hunter2-value"), ("aws_secret_access_key", "wJalrXUtnFEMI"), ("SLACK_TOKEN", "zz-value"),
     ("STRIPE_API_KEY", "abc-value"), ("OAUTH_CLIENT_SECRET", "s-value"), ("X", AWS_ID), ("NOTES", GITHUB),
     ("CERT", PEM), ("UPSTREAM", "https://bob:pa55word@example.com/x"), ("HOOK", "xoxb-1234567890-abcdef")],
)  # fmt: skip
def test_secret_names_and_values_fail_and_the_value_is_never_shown(
    tmp_path: Path, entry: str, value: str
) -> None:
    for outcome in (_run(tmp_path, env=[f"{entry}={value}"]), _run(tmp_path, labels={entry: value})):
        assert outcome.status is Status.FAIL
        assert entry[:8] in _text(outcome)
        assert value not in _text(outcome) and value[:12] not in _text(outcome)


@pytest.mark.parametrize(
    "entry",
    ["PATH=/usr/bin", "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305", "PASSWORD_FILE=/run/secrets/pw",
     "MYSQL_ROOT_PASSWORD=", "KEY_DIR=/etc/keys", "HOME=/root", "NOEQUALS"],
)  # fmt: skip
def test_harmless_entries_pass(tmp_path: Path, entry: str) -> None:
    assert _run(tmp_path, env=[entry]).status is Status.PASS


def test_a_name_that_itself_looks_secret_is_not_shown(tmp_path: Path) -> None:
    outcome = _run(tmp_path, env=[f"{AWS_ID}=1"])
    assert outcome.status is Status.FAIL
    assert AWS_ID not in _text(outcome) and "name not shown" in _text(outcome)


def test_allow_and_extra_names_tailor_the_names(tmp_path: Path) -> None:
    assert _run(tmp_path, env=["DB_PASSWORD=x"], allow=["DB_*"]).status is Status.PASS
    assert _run(tmp_path, env=["VAULT_ROLE=x"], extra_names=["VAULT_*"]).status is Status.FAIL
    # a value that looks secret fails whatever the allowed names say
    assert _run(tmp_path, env=[f"DB_PASSWORD={AWS_ID}"], allow=["DB_*"]).status is Status.FAIL


def test_malformed_config_entries_are_skipped(tmp_path: Path) -> None:
    assert _run(tmp_path, env=[1, None, {"A": "B"}], labels={"a": 1}).status is Status.PASS
    assert _run(tmp_path, env="DB_PASSWORD=x", labels=["x"]).status is Status.PASS


def test_many_findings_are_capped_and_huge_values_are_bounded(tmp_path: Path) -> None:
    env = [f"TOKEN_{n}=v" for n in range(200)] + [
        "BIG=" + "A" * 1_000_000 + AWS_ID,
        "BIG2=" + AWS_ID + " " + "B" * 1_000_000,
        "URLS=" + "a://b:c" * 100_000,
    ]
    outcome = _run(tmp_path, env=env)
    assert outcome.status is Status.FAIL
    assert len(outcome.evidence) == 51 and outcome.evidence[-1] == "... and 151 more"


def test_not_an_image_is_na(tmp_path: Path) -> None:
    assert CHECK.run({}, Context(build_view(tmp_path, {}))).status is Status.NA
