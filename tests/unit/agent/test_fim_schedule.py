"""The daemon runs the fim job beside the inventory scan: on its own schedule once a baseline exists, and
whenever the server asks for a job of kind "fim"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rampart.agent import protocol as p
from rampart.agent.daemon import FIM_SEEN_FILE, LAST_FIM_FILE, LAST_SCAN_FILE, Agent, next_due
from rampart.fleet.fimresult import parse_fim_result
from unit.agent.fim_helpers import FimHost, agent_factory, make_fim_host

HOUR = 3600.0


@pytest.fixture
def host(tmp_path: Path) -> FimHost:
    return make_fim_host(tmp_path)


@pytest.fixture
def make_agent(tmp_path: Path, host: FimHost) -> Iterator[Callable[..., Agent]]:
    with agent_factory(tmp_path, host) as make:
        yield make


def spooled(agent: Agent) -> list[tuple[str, bytes]]:
    return [(item.kind, item.payload) for item in agent.spool.lease(100, HOUR)]


def test_next_due_runs_due_kinds_in_table_order_else_names_the_soonest() -> None:
    intervals = {"inventory": 6 * HOUR, "fim": HOUR}
    assert next_due(intervals, {}, 10 * HOUR) == ("inventory", -4 * HOUR)
    assert next_due(intervals, {"inventory": 10 * HOUR}, 10 * HOUR) == ("fim", -9 * HOUR)
    assert next_due(intervals, {"inventory": 10 * HOUR, "fim": 10 * HOUR}, 10.5 * HOUR) == ("fim", HOUR / 2)
    assert next_due(intervals, {"inventory": 5 * HOUR, "fim": 10.9 * HOUR}, 11 * HOUR) == ("inventory", 0.0)
    assert next_due({"inventory": HOUR}, {"fim": 0.0}, 0.0) == ("inventory", HOUR)


def test_fim_is_scheduled_only_when_a_baseline_exists_and_the_interval_is_not_zero(
    make_agent: Callable[..., Agent],
) -> None:
    assert make_agent().scheduled() == {"inventory": 6 * HOUR, "fim": HOUR}
    assert make_agent(fim_interval=15 * 60.0).scheduled()["fim"] == 15 * 60.0
    assert make_agent(fim_interval=0.0).scheduled() == {"inventory": 6 * HOUR}


def test_a_host_without_a_baseline_is_not_checked_on_schedule(
    make_agent: Callable[..., Agent], tmp_path: Path
) -> None:
    agent = make_agent(fim_baseline=tmp_path / "none.rfim")
    assert agent.scheduled() == {"inventory": 6 * HOUR}
    assert not (tmp_path / "state" / FIM_SEEN_FILE).exists()


def test_a_baseline_that_vanishes_stays_scheduled_so_its_loss_is_reported(
    make_agent: Callable[..., Agent], host: FimHost
) -> None:
    agent = make_agent()
    assert "fim" in agent.scheduled()
    host.baseline.unlink()
    assert "fim" in agent.scheduled()
    assert asyncio.run(agent.run_due()) == 0.0  # inventory first: it is due as well
    assert asyncio.run(agent.run_due()) == 0.0
    kinds = dict(spooled(agent))
    assert set(kinds) == {"inventory", "fim"}
    assert parse_fim_result(kinds["fim"]).refused == (
        f"no fim baseline at {host.baseline}: run `rampart fim init` on the host"
    )


def test_due_jobs_run_one_at_a_time_then_the_schedule_waits(
    make_agent: Callable[..., Agent], tmp_path: Path
) -> None:
    agent = make_agent()
    state = tmp_path / "state"
    assert asyncio.run(agent.run_due()) == 0.0
    assert (state / LAST_SCAN_FILE).exists() and not (state / LAST_FIM_FILE).exists()
    assert asyncio.run(agent.run_due()) == 0.0
    assert (state / LAST_FIM_FILE).exists()
    wait = asyncio.run(agent.run_due())
    assert 0 < wait <= HOUR
    items = spooled(agent)
    assert [kind for kind, _ in items] == ["inventory", "fim"]
    fim = parse_fim_result(items[1][1])
    assert fim.refused is None and fim.job_id is None and fim.entries == 4


def test_a_fim_check_does_not_reset_the_inventory_schedule(
    make_agent: Callable[..., Agent], tmp_path: Path
) -> None:
    agent = make_agent()
    asyncio.run(agent.run_job("fim"))
    assert (tmp_path / "state" / LAST_FIM_FILE).exists()
    assert not (tmp_path / "state" / LAST_SCAN_FILE).exists()


def test_the_server_can_ask_for_a_fim_check(make_agent: Callable[..., Agent], host: FimHost) -> None:
    agent = make_agent(fim_interval=0.0)
    (host.tree / "conf").write_text("setting = 2\n")
    job = p.parse_server_message({"type": "job", "job_id": "c" * 32, "kind": "fim"})
    assert isinstance(job, p.Job)

    async def dispatch() -> None:
        await agent._on_job(job)
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        await asyncio.gather(*pending)

    asyncio.run(dispatch())
    ((kind, payload),) = spooled(agent)
    result = parse_fim_result(payload)
    assert kind == "fim" and result.job_id == "c" * 32
    assert bytes(host.tree / "conf") in {c.path for c in result.changes}
