"""Every client test gets a private config file and no login from the surrounding environment."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def client_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh RAMPART_CONFIG path; RAMPART_SERVER/TOKEN/PASSWORD/USER cleared."""
    for name in ("RAMPART_SERVER", "RAMPART_TOKEN", "RAMPART_PASSWORD", "RAMPART_USER", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config" / "rampart" / "client.json"
    monkeypatch.setenv("RAMPART_CONFIG", str(path))
    return path
