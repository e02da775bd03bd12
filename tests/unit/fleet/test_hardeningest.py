"""Storing hardening runs: history, rule statuses and their transitions, late, duplicate and failed runs,
and the queries that read them (per-host scores, fleet-wide failing rules)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rampart.errors import InventoryError
from rampart.fleet.harden_queries import failing_rules, host_results, host_runs, host_scores
from rampart.fleet.hardeningest import HardenOutcome, ingest_harden
from rampart.fleet.hardenresult import HardenResult, error_document, parse_harden_result
from rampart.store.engine import write_session
from rampart.store.models import HardenResultRow, HardenRunRow, Host, Result
from unit.fleet.harden_samples import T0, harden_result, rule

HOUR = timedelta(hours=1)


def ingest(sessions: sessionmaker[Session], host: str, result: HardenResult) -> HardenOutcome:
    with write_session(sessions) as session:
        return ingest_harden(session, host, result, T0 + 10 * HOUR)


def statuses(
    sessions: sessionmaker[Session], host: str, profile: str = "ssh-server"
) -> dict[str, HardenResultRow]:
    with sessions() as session:
        rows = session.scalars(
            select(HardenResultRow).where(HardenResultRow.host_id == host, HardenResultRow.profile == profile)
        )
        return {r.rule: r for r in rows}


def hosts(sessions: sessionmaker[Session], *ids: str) -> list[Host]:
    with sessions() as session:
        return [h for h in (session.get(Host, i) for i in ids) if h is not None]


@pytest.fixture
def host(add_host: Callable[..., str]) -> str:
    return add_host("web-1")


def test_a_first_run_stores_the_run_and_every_rule(store_sessions: sessionmaker[Session], host: str) -> None:
    result = harden_result([rule("ssh.a", "fail", "high"), rule("ssh.b"), rule("ssh.c", "na")], job_id="j1")
    outcome = ingest(store_sessions, host, result)
    assert (outcome.stored, outcome.applied, outcome.new, outcome.changed, outcome.removed) == (
        True,
        True,
        3,
        0,
        0,
    )
    with store_sessions() as session:
        run = session.get(HardenRunRow, result.id)
        assert run is not None and run.host_id == host and run.job_id == "j1"
        assert (run.score, run.passed, run.failed, run.na, run.errors, run.manual) == (50.0, 1, 1, 1, 0, 0)
        assert (run.started, run.received_at, run.error, run.duration_seconds) == (
            T0,
            T0 + 10 * HOUR,
            None,
            1.25,
        )
        stored = session.get(Result, result.id)
        assert stored is not None and stored.kind == "harden" and stored.host_id == host
    rows = statuses(store_sessions, host)
    assert {k: r.status for k, r in rows.items()} == {"ssh.a": "fail", "ssh.b": "pass", "ssh.c": "na"}
    first = rows["ssh.a"]
    assert (first.severity, first.cis, first.evidence, first.previous_status, first.changed_at) == (
        "high",
        ["5.1.16"],
        ["ssh.a: fail"],
        None,
        T0,
    )


def test_a_duplicate_is_recognised_and_changes_nothing(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    result = harden_result([rule("ssh.a", "fail")])
    assert ingest(store_sessions, host, result).stored
    assert ingest(store_sessions, host, result) == HardenOutcome(stored=False)
    with store_sessions() as session:
        assert session.scalar(select(func.count()).select_from(HardenRunRow)) == 1


def test_status_transitions_keep_the_previous_status_and_when(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    ingest(store_sessions, host, harden_result([rule("ssh.a", "fail"), rule("ssh.b"), rule("ssh.gone")]))
    second = harden_result([rule("ssh.a"), rule("ssh.b"), rule("ssh.new", "fail")], T0 + HOUR)
    outcome = ingest(store_sessions, host, second)
    assert (outcome.new, outcome.changed, outcome.removed) == (1, 1, 1)
    rows = statuses(store_sessions, host)
    assert set(rows) == {"ssh.a", "ssh.b", "ssh.new"}
    assert (rows["ssh.a"].status, rows["ssh.a"].previous_status, rows["ssh.a"].changed_at) == (
        "pass",
        "fail",
        T0 + HOUR,
    )
    assert (rows["ssh.b"].previous_status, rows["ssh.b"].changed_at, rows["ssh.b"].checked_at) == (
        None,
        T0,
        T0 + HOUR,
    )
    assert rows["ssh.b"].run_id == second.id and rows["ssh.new"].changed_at == T0 + HOUR
    third = harden_result([rule("ssh.a"), rule("ssh.b"), rule("ssh.new", "fail")], T0 + 2 * HOUR)
    ingest(store_sessions, host, third)
    again = statuses(store_sessions, host)["ssh.a"]
    assert (again.previous_status, again.changed_at) == ("fail", T0 + HOUR)  # unchanged since
    with store_sessions() as session:
        changed = host_results(session, host, changed=True)
        assert [(r.rule, r.previous_status, r.status) for r in changed] == [("ssh.a", "fail", "pass")]
        total, runs = host_runs(session, host)
        assert total == 3 and [r.started for r in runs] == [T0 + 2 * HOUR, T0 + HOUR, T0]
        total, page = host_runs(session, host, limit=1, offset=1)
        assert total == 3 and [r.id for r in page] == [second.id]


def test_a_late_older_run_is_history_only(store_sessions: sessionmaker[Session], host: str) -> None:
    ingest(store_sessions, host, harden_result([rule("ssh.a")], T0 + HOUR))
    outcome = ingest(store_sessions, host, harden_result([rule("ssh.a", "fail")], T0))
    assert outcome.stored and not outcome.applied
    assert statuses(store_sessions, host)["ssh.a"].status == "pass"
    with store_sessions() as session:
        assert host_runs(session, host)[0] == 2
        (score,) = host_scores(session, hosts(store_sessions, host))
        assert score.run is not None and score.run.started == T0 + HOUR and score.run.score == 100.0


def test_a_failed_run_is_recorded_and_leaves_statuses_and_score(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    ingest(store_sessions, host, harden_result([rule("ssh.a", "fail")]))
    data = error_document("ssh-server", "no profile 'ssh-server'", str(uuid.uuid4()), None, T0 + HOUR)
    outcome = ingest(store_sessions, host, parse_harden_result(data))
    assert outcome.stored and not outcome.applied and outcome.error == "no profile 'ssh-server'"
    assert statuses(store_sessions, host)["ssh.a"].status == "fail"
    with store_sessions() as session:
        (score,) = host_scores(session, hosts(store_sessions, host))
        assert score.run is not None and score.run.score == 0.0
        assert score.failure is not None and score.failure.error == "no profile 'ssh-server'"
    later = harden_result([rule("ssh.a")], T0 + 2 * HOUR)
    ingest(store_sessions, host, later)
    with store_sessions() as session:
        (score,) = host_scores(session, hosts(store_sessions, host))
        assert score.run is not None and score.run.id == later.id and score.failure is None


def test_profiles_are_kept_apart(store_sessions: sessionmaker[Session], host: str) -> None:
    ingest(store_sessions, host, harden_result([rule("ssh.a", "fail")], profile="ssh-server"))
    ingest(store_sessions, host, harden_result([rule("ssh.a"), rule("fs.b")], profile="debian12-l1-server"))
    assert set(statuses(store_sessions, host, "debian12-l1-server")) == {"ssh.a", "fs.b"}
    assert statuses(store_sessions, host)["ssh.a"].status == "fail"
    with store_sessions() as session:
        scores = host_scores(session, hosts(store_sessions, host))
        assert [(s.run.profile, s.run.score) for s in scores if s.run] == [
            ("debian12-l1-server", 100.0),
            ("ssh-server", 0.0),
        ]
        only = host_scores(session, hosts(store_sessions, host), "ssh-server")
        assert [s.run.profile for s in only if s.run] == ["ssh-server"]


def test_failing_rules_count_hosts_worst_first(
    store_sessions: sessionmaker[Session], add_host: Callable[..., str]
) -> None:
    ids = [add_host(f"web-{n}") for n in range(3)]
    quiet = add_host("quiet-1")
    ingest(
        store_sessions,
        ids[0],
        harden_result([rule("ssh.low", "fail", "low"), rule("ssh.high", "fail", "high")]),
    )
    ingest(store_sessions, ids[1], harden_result([rule("ssh.low", "fail", "low"), rule("ssh.high")]))
    ingest(store_sessions, ids[2], harden_result([rule("ssh.low", "fail", "low"), rule("ssh.high", "na")]))
    with store_sessions() as session:
        failing = failing_rules(session, [*ids, quiet])
        assert [(r.rule, r.hosts, r.severity, r.hostnames) for r in failing] == [
            ("ssh.high", 1, "high", ["web-0"]),
            ("ssh.low", 3, "low", ["web-0", "web-1", "web-2"]),
        ]
        assert failing[0].cis == ["5.1.16"] and failing[0].title == "Title of ssh.high"
        assert [r.rule for r in failing_rules(session, [ids[1]])] == ["ssh.low"]
        assert failing_rules(session, []) == []
        assert [(r.rule, r.hosts) for r in failing_rules(session, ids, "pass")] == [("ssh.high", 1)]
        scores = host_scores(session, hosts(store_sessions, *ids, quiet))
        assert [(s.host.hostname, s.run is None) for s in scores] == [
            ("quiet-1", True),
            ("web-0", False),
            ("web-1", False),
            ("web-2", False),
        ]
        results = host_results(session, ids[0])
        assert [r.rule for r in results] == ["ssh.high", "ssh.low"]  # failing, then by severity
        assert [r.rule for r in host_results(session, ids[1], status="pass")] == ["ssh.high"]


def test_an_unknown_host_is_refused(store_sessions: sessionmaker[Session]) -> None:
    with pytest.raises(InventoryError, match="unknown host"):
        ingest(store_sessions, "h-nobody", harden_result([rule("ssh.a")]))


def test_many_rules_in_one_run(store_sessions: sessionmaker[Session], host: str) -> None:
    many = [rule(f"fs.rule-{n:04d}", "fail" if n % 3 else "pass") for n in range(1200)]
    ingest(store_sessions, host, harden_result(many))
    flipped = [rule(f"fs.rule-{n:04d}", "pass") for n in range(1200)]
    outcome = ingest(store_sessions, host, harden_result(flipped, T0 + HOUR))
    assert outcome.changed == 800 and outcome.new == 0
    assert {r.status for r in statuses(store_sessions, host).values()} == {"pass"}
