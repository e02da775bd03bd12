"""The agent's real-time fim watch: a change to the baseline's tree runs the fim job soon after (debounced,
one job at a time) and its result lands in the spool; off with ``--no-fim-watch``; a watch that cannot start
is logged and leaves the agent running."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest

from rampart.agent.daemon import Agent
from rampart.agent.fimwatch import FimWatch
from rampart.fleet.fimresult import parse_fim_result
from unit.agent.fim_helpers import FimHost, agent_factory, make_fim_host

HOUR = 3600.0
DEADLINE = 60.0


@pytest.fixture
def host(tmp_path: Path) -> FimHost:
    return make_fim_host(tmp_path)


@pytest.fixture
def make_agent(tmp_path: Path, host: FimHost) -> Iterator[Callable[..., Agent]]:
    with agent_factory(tmp_path, host, fim_interval=0.0) as make:  # every result comes from the watch
        yield make


async def until(check: Callable[[], object], what: str) -> None:
    """Poll ``check`` until it holds; fail after a generous deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not check():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def count(agent: Agent) -> int:
    return agent.spool.stats().count


def fim_results(agent: Agent) -> list[bytes]:
    items = agent.spool.lease(100, HOUR)
    assert {item.kind for item in items} <= {"fim"}
    return [item.payload for item in items]


async def started(agent: Agent) -> tuple[FimWatch, asyncio.Event, asyncio.Task[None]]:
    watch = agent.fim_watch()
    assert watch is not None
    stop = asyncio.Event()
    task = asyncio.create_task(watch.run(stop))
    await until(lambda: watch.ready.is_set() or task.done(), "the watch to reconcile")
    assert not task.done()
    return watch, stop, task


def test_a_change_is_checked_and_spooled_soon_after(make_agent: Callable[..., Agent], host: FimHost) -> None:
    agent = make_agent()

    async def scenario() -> None:
        watch, stop, task = await started(agent)
        assert watch.notices == 0  # an unchanged tree asks for nothing
        (host.tree / "conf").write_text("setting = 2\n")
        await until(lambda: count(agent) >= 1, "a fim result in the spool")
        stop.set()
        await task

    asyncio.run(scenario())
    (payload,) = fim_results(agent)
    result = parse_fim_result(payload)
    assert result.refused is None and result.job_id is None
    assert bytes(host.tree / "conf") in {c.path for c in result.changes}


def test_quick_changes_lead_to_one_check_within_the_debounce_window(
    make_agent: Callable[..., Agent], host: FimHost
) -> None:
    agent = make_agent(fim_watch_debounce=HOUR)

    async def scenario() -> None:
        watch, stop, task = await started(agent)
        (host.tree / "conf").write_text("setting = 2\n")
        (host.tree / "bin" / "tool").chmod(0o4755)
        await until(lambda: watch.notices >= 2, "both changes to be noticed")
        await until(lambda: count(agent) >= 1 and not agent._job_lock.locked(), "the check to end")
        (host.tree / "conf").write_text("setting = 3\n")
        await until(lambda: watch.notices >= 3, "a third change to be noticed")
        await asyncio.sleep(0.5)  # room for a wrong second check to start
        assert not agent._job_lock.locked()
        stop.set()
        await task

    asyncio.run(scenario())
    assert agent.fim_trigger.runs == 1
    assert len(fim_results(agent)) == 1


def test_a_change_after_the_debounce_window_is_checked_again(
    make_agent: Callable[..., Agent], host: FimHost
) -> None:
    agent = make_agent(fim_watch_debounce=0.5)

    async def scenario() -> None:
        _, stop, task = await started(agent)
        (host.tree / "conf").write_text("setting = 2\n")
        await until(lambda: count(agent) >= 1, "the first check")
        (host.tree / "bin" / "tool").chmod(0o4755)
        await until(lambda: count(agent) >= 2, "the second check")
        stop.set()
        await task

    asyncio.run(scenario())
    last = parse_fim_result(fim_results(agent)[-1])
    assert {bytes(host.tree / "conf"), bytes(host.tree / "bin" / "tool")} <= {c.path for c in last.changes}


def run_agent(agent: Agent, monkeypatch: pytest.MonkeyPatch, body: Callable[[], object]) -> None:
    """``Agent.run`` without a server or scheduled jobs: ``body`` (awaited) runs while it does."""

    async def idle(*_: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(agent, "_keep_linked", idle)
    monkeypatch.setattr(agent, "_schedule", idle)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(agent.run(stop))
        try:
            await cast(asyncio.Future[None], body())
        finally:
            stop.set()
            await running
        assert asyncio.all_tasks() == {asyncio.current_task()}  # the watch stopped with the agent

    asyncio.run(scenario())


def test_the_daemon_runs_the_watch_beside_the_link_and_stops_it(
    make_agent: Callable[..., Agent], host: FimHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = make_agent()
    kinds: list[str] = []

    async def body() -> None:
        (host.tree / "bin" / "tool").chmod(0o4755)
        await until(lambda: count(agent) >= 1, "a fim result in the spool")
        kinds.extend(item.kind for item in agent.spool.lease(100, HOUR))

    run_agent(agent, monkeypatch, body)
    assert kinds == ["fim"]


def test_no_fim_watch_runs_nothing(
    make_agent: Callable[..., Agent], host: FimHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = make_agent(fim_watch=False)
    assert agent.fim_watch() is None
    seen: list[int] = []

    async def body() -> None:
        (host.tree / "conf").write_text("setting = 2\n")
        await asyncio.sleep(2.0)  # far longer than a watch takes to report and check (see above)
        seen.append(count(agent))

    run_agent(agent, monkeypatch, body)
    assert seen == [0] and agent.fim_trigger.runs == 0


def test_no_baseline_no_watch(make_agent: Callable[..., Agent], tmp_path: Path) -> None:
    assert make_agent(fim_baseline=tmp_path / "none.rfim").fim_watch() is None


def test_a_refused_baseline_is_logged_once_and_nothing_runs(
    make_agent: Callable[..., Agent], host: FimHost, caplog: pytest.LogCaptureFixture
) -> None:
    agent = make_agent()
    data = bytearray(host.baseline.read_bytes())
    data[len(data) // 2] ^= 0x01
    host.baseline.write_bytes(bytes(data))
    watch = agent.fim_watch()
    assert watch is not None
    with caplog.at_level(logging.INFO, logger="rampart.agent"):
        asyncio.run(watch.run(asyncio.Event()))  # returns at once: nothing to watch
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "fim watch not started" in record.getMessage()
    assert "REFUSED" in record.getMessage() and "scheduled fim checks go on" in record.getMessage()
    assert count(agent) == 0


def test_no_inotify_is_logged_once_and_the_agent_goes_on(
    make_agent: Callable[..., Agent], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unavailable() -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr("rampart.fim.watch.Inotify", unavailable)
    watch = make_agent().fim_watch()
    assert watch is not None
    with caplog.at_level(logging.INFO, logger="rampart.agent"):
        asyncio.run(watch.run(asyncio.Event()))
    (record,) = caplog.records
    assert "fim watch stopped" in record.getMessage() and "Too many open files" in record.getMessage()
