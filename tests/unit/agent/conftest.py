"""Spool fixtures: a fake clock, a spool path in a fresh directory, and a spool factory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rampart.agent.spool import Spool
from unit.agent.spool_helpers import Counter, FakeClock, SpoolFactory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def spool_path(tmp_path: Path) -> Path:
    return tmp_path / "agent" / "spool.db"


@pytest.fixture
def make_spool(spool_path: Path, clock: FakeClock) -> Iterator[SpoolFactory]:
    """Opens spools at ``spool_path`` (big bounds unless overridden), closing them all afterwards."""
    opened: list[Spool] = []

    def make(**overrides: object) -> Spool:
        options: dict[str, object] = {
            "max_bytes": 1 << 20,
            "max_items": 1000,
            "clock": clock,
            "id_factory": Counter(),
        }
        options.update(overrides)
        spool = Spool.open(spool_path, **options)  # type: ignore[arg-type]
        opened.append(spool)
        return spool

    yield make
    for spool in opened:
        spool.close()
