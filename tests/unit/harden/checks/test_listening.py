"""The listening check: loopback-only and no-listener, on recorded sockets; offline is na."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks import CHECKS
from rampart.harden.checks.listening import is_loopback
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view


def run(tmp_path: Path, sockets: list[dict[str, Any]] | None, **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    scenario = {"kind": "host", "runtime": {"listening": sockets}} if sockets is not None else {}
    return CHECKS["listening"].run(params, Context(build_view(tmp_path, scenario)))


def test_local_only(tmp_path: Path) -> None:
    local = [
        {"protocol": "tcp", "address": "127.0.0.1", "port": 25},
        {"protocol": "tcp6", "address": "::1", "port": 25},
    ]
    assert run(tmp_path, local, **{"assert": "local_only", "ports": [25]}).status is Status.PASS
    wide = [*local, {"protocol": "tcp6", "address": "::", "port": 25, "process": "master"}]
    outcome = run(tmp_path / "b", wide, **{"assert": "local_only", "ports": [25]})
    assert outcome.status is Status.FAIL
    assert outcome.evidence == ("listening: tcp6 :::25 (master)",)


def test_no_listener_and_offline(tmp_path: Path) -> None:
    assert (
        run(
            tmp_path,
            [{"protocol": "udp", "address": "0.0.0.0", "port": 69}],
            **{"assert": "no_listener", "ports": [69]},
        ).status
        is Status.FAIL
    )
    assert run(tmp_path / "b", None, **{"assert": "no_listener", "ports": [69]}).status is Status.NA


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.53") and is_loopback("::1") and is_loopback("fe80::1%lo") is False
    assert not is_loopback("garbage") and not is_loopback("0.0.0.0")
