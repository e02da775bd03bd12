"""The agent's hardening job (a profile run over the host, or the reason none could be made) and the
daemon running it on its own schedule and whenever the server asks, with the profile the server names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rampart.agent import jobs
from rampart.agent import protocol as p
from rampart.agent.daemon import LAST_HARDEN_FILE, Agent, harden_choice
from rampart.agent.jobs import DEFAULT_HARDEN_PROFILE, JOBS, JobContext, harden_job, harden_view
from rampart.fleet.hardenresult import HardenResult, parse_harden_result
from rampart.harden.rootview import RootView
from rampart.harden.runtime import StaticRuntime
from rampart.harden.view import SystemView
from unit.agent.fim_helpers import agent_factory, make_fim_host
from unit.agent.harden_helpers import PROFILE, install_test_profile, make_root

HOUR = 3600.0


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install_test_profile(monkeypatch, tmp_path)
    return make_root(tmp_path)


def run(context: JobContext) -> HardenResult:
    result = harden_job(context)
    parsed = parse_harden_result(result.payload)
    assert result.kind == "harden" and parsed.id == result.id and parsed.job_id == context.job_id
    return parsed


def test_the_harden_job_is_listed_and_defaults_to_the_debian_level_1_profile() -> None:
    assert JOBS["harden"] is harden_job
    assert JobContext(Path("/")).harden_profile == DEFAULT_HARDEN_PROFILE == "debian12-l1-server"


def test_a_directory_is_checked_offline_and_every_rule_is_reported(root: Path) -> None:
    parsed = run(JobContext(root, "a" * 32, harden_profile=PROFILE))
    assert (parsed.profile, parsed.profile_title, parsed.benchmark, parsed.target_kind) == (
        PROFILE,
        "Test profile",
        "debian12",
        "rootfs",
    )
    statuses = {r.rule: r.status for r in parsed.results}
    assert statuses == {"test.banner-present": "pass", "test.no-rhosts": "fail", "test.review": "manual"}
    assert parsed.score == 50.0 and parsed.error is None
    failing = next(r for r in parsed.results if r.rule == "test.no-rhosts")
    assert (
        failing.severity == "high"
        and failing.cis == ("7.2.9",)
        and failing.evidence == ("/root/.rhosts: exists",)
    )


def test_a_live_view_is_reported_as_the_host(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def live(path: Path) -> SystemView:
        return RootView(str(path), StaticRuntime())

    monkeypatch.setattr(jobs, "harden_view", live)
    (root / "root" / ".rhosts").unlink()
    parsed = run(JobContext(root, harden_profile=PROFILE))
    assert parsed.target_kind == "host" and parsed.score == 100.0


def test_an_unknown_profile_uploads_the_reason(root: Path) -> None:
    parsed = run(JobContext(root, "b" * 32, harden_profile="no-such-profile"))
    assert parsed.results == () and parsed.profile == "no-such-profile"
    assert parsed.error is not None and parsed.error.startswith("no profile 'no-such-profile'")


def test_the_real_loader_refuses_a_profile_that_is_not_shipped(tmp_path: Path) -> None:
    parsed = run(JobContext(tmp_path, harden_profile="not-a-shipped-profile"))
    assert parsed.error is not None and "not-a-shipped-profile" in parsed.error and parsed.results == ()


def test_a_hostile_profile_name_from_the_server_is_cut_and_made_safe(root: Path) -> None:
    parsed = run(JobContext(root, harden_profile="../../etc/shadow\x1b[2J" + "x" * 200))
    assert parsed.error is not None and "\x1b" not in parsed.error and parsed.results == ()
    assert parsed.profile == "invalid-profile" and "../../etc/shadow" in parsed.error


def test_each_run_has_its_own_idempotency_id(root: Path) -> None:
    context = JobContext(root, harden_profile=PROFILE)
    assert harden_job(context).id != harden_job(context).id


def test_the_live_host_needs_the_host_runtime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert harden_view(tmp_path).kind == "rootfs"
    try:
        from rampart.harden.hostruntime import HostRuntime  # noqa: F401
    except ImportError:
        with pytest.raises(Exception, match="live host checks are not available"):
            harden_view(Path("/"))
    else:
        assert harden_view(Path("/")).kind == "host"


# --- the daemon ---------------------------------------------------------------------------------


@pytest.fixture
def make_agent(tmp_path: Path, root: Path) -> Iterator[Callable[..., Agent]]:
    host = make_fim_host(tmp_path / "fim")
    defaults = {"root": root, "fim_interval": 0.0, "harden_profile": PROFILE}
    with agent_factory(tmp_path, host, **defaults) as make:
        yield make


def spooled(agent: Agent) -> list[tuple[str, bytes]]:
    return [(item.kind, item.payload) for item in agent.spool.lease(100, HOUR)]


def test_harden_is_scheduled_only_with_an_interval(make_agent: Callable[..., Agent]) -> None:
    assert make_agent().scheduled() == {"inventory": 6 * HOUR}
    assert make_agent(harden_interval=24 * HOUR).scheduled() == {"inventory": 6 * HOUR, "harden": 24 * HOUR}


def test_a_scheduled_run_is_spooled_and_stamped(make_agent: Callable[..., Agent], tmp_path: Path) -> None:
    agent = make_agent(harden_interval=HOUR, scan_interval=HOUR)
    (tmp_path / "state" / "last-scan").write_text("9999999999\n")  # inventory not due
    assert asyncio.run(agent.run_due()) == 0.0
    assert (tmp_path / "state" / LAST_HARDEN_FILE).exists()
    ((kind, payload),) = spooled(agent)
    parsed = parse_harden_result(payload)
    assert (
        kind == "harden" and parsed.profile == PROFILE and parsed.job_id is None and len(parsed.results) == 3
    )
    assert asyncio.run(agent.run_due()) > 0


def test_the_server_can_ask_for_a_run_of_a_named_profile(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent()
    jobs_sent = [
        {"type": "job", "job_id": "c" * 32, "kind": "harden"},
        {"type": "job", "job_id": "d" * 32, "kind": "harden", "params": {"profile": "debian12-l2-server"}},
    ]

    async def dispatch() -> None:
        for message in jobs_sent:
            job = p.parse_server_message(message)
            assert isinstance(job, p.Job)
            await agent._on_job(job)
            pending = asyncio.all_tasks() - {asyncio.current_task()}
            await asyncio.gather(*pending)

    asyncio.run(dispatch())
    first, second = (parse_harden_result(payload) for _, payload in spooled(agent))
    assert (first.job_id, first.profile, first.error, len(first.results)) == ("c" * 32, PROFILE, None, 3)
    assert (second.job_id, second.profile, second.results) == ("d" * 32, "debian12-l2-server", ())
    assert second.error is not None and "debian12-l2-server" in second.error


def test_harden_choice_keeps_the_tailoring_only_for_the_configured_profile(
    make_agent: Callable[..., Agent], tmp_path: Path
) -> None:
    settings = make_agent(harden_tailoring=tmp_path / "t.yml").settings
    assert harden_choice(settings, None) == (PROFILE, tmp_path / "t.yml")
    assert harden_choice(settings, PROFILE) == (PROFILE, tmp_path / "t.yml")
    assert harden_choice(settings, "other") == ("other", None)
    assert harden_choice(settings, ["x"]) == (PROFILE, tmp_path / "t.yml")
    assert harden_choice(settings, "y" * 500) == ("y" * 80, None)
