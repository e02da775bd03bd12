"""Storing file integrity results: new, seen again, changed again, accepted, resolved, late, duplicate, refused."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rampart.errors import InventoryError
from rampart.fim.model import Cause
from rampart.fleet.fim_queries import ChangeFilter, accept_changes, host_states, list_changes
from rampart.fleet.fimingest import FimOutcome, ingest_fim, path_key
from rampart.fleet.fimresult import FimResult
from rampart.store.engine import write_session
from rampart.store.models import FimChangeRow, FimStatusRow, Host, Result
from unit.fleet.fim_samples import BASELINE, T0, changed, fim_result, removed

PASSWD = b"/etc/passwd"
HOSTS = b"/etc/hosts"
ODD = b"/tmp/\x1b[31mred\xff"


def ingest(sessions: sessionmaker[Session], host: str, result: FimResult, now: Any = T0) -> FimOutcome:
    with write_session(sessions) as session:
        return ingest_fim(session, host, result, now)


def rows(sessions: sessionmaker[Session], host: str) -> dict[bytes, FimChangeRow]:
    import base64

    with sessions() as session:
        found = session.scalars(select(FimChangeRow).where(FimChangeRow.host_id == host))
        return {base64.b64decode(r.path_b64): r for r in found}


def accept(sessions: sessionmaker[Session], host: str, *paths: bytes) -> list[FimChangeRow]:
    with write_session(sessions) as session:
        accepted, missing = accept_changes(
            session, host, [path_key(p) for p in paths], "opal", "planned change", T0
        )
    assert missing == []
    return accepted


@pytest.fixture
def host(add_host: Callable[..., str]) -> str:
    return add_host("web-1")


def test_new_changes_open_with_escaped_paths_and_status(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    result = fim_result([changed(PASSWD, 10), changed(ODD, 3, Cause.PACKAGE, "base-files")])
    outcome = ingest(store_sessions, host, result)
    assert (outcome.stored, outcome.applied, outcome.opened, outcome.resolved) == (True, True, 2, 0)
    stored = rows(store_sessions, host)
    assert {r.status for r in stored.values()} == {"open"}
    odd = stored[ODD]
    assert odd.path == "/tmp/\\x1b[31mred\\xff" and odd.package == "base-files" and odd.cause == "package"
    assert odd.attributes == [{"name": "size", "before": "1", "after": "3"}]
    assert len(odd.fingerprint) == 64 and odd.first_seen_at == T0 == odd.last_seen_at
    with store_sessions() as session:
        status = session.get(FimStatusRow, host)
        assert status is not None
        assert (status.checked_at, status.entries, status.unreadable, status.refused) == (T0, 100, 0, "")
        assert (status.baseline_created, status.baseline_digest, status.key_id) == (
            BASELINE["created"],
            BASELINE["digest"],
            BASELINE["key_id"],
        )
        result_row = session.get(Result, result.id)
        assert result_row is not None and result_row.kind == "fim" and result_row.host_id == host


def test_the_same_change_seen_again_only_moves_last_seen(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)]))
    later = T0 + timedelta(hours=1)
    outcome = ingest(store_sessions, host, fim_result([changed(PASSWD, 10)], later), later)
    assert (outcome.opened, outcome.resolved) == (0, 0)
    row = rows(store_sessions, host)[PASSWD]
    assert (row.status, row.first_seen_at, row.last_seen_at) == ("open", T0, later)


def test_an_accepted_change_stays_accepted_in_its_state_and_reopens_in_another(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10), changed(HOSTS, 5)]))
    accepted = accept(store_sessions, host, PASSWD)
    assert [(r.path, r.status, r.accepted_by) for r in accepted] == [("/etc/passwd", "accepted", "opal")]
    t1, t2, t3 = (T0 + timedelta(hours=n) for n in (1, 2, 3))
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10), changed(HOSTS, 5)], t1), t1)
    assert rows(store_sessions, host)[PASSWD].status == "accepted"
    outcome = ingest(store_sessions, host, fim_result([changed(PASSWD, 11), changed(HOSTS, 5)], t2), t2)
    again = rows(store_sessions, host)[PASSWD]
    assert outcome.opened == 1 and again.status == "open" and again.accepted_reason == "planned change"
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10), changed(HOSTS, 5)], t3), t3)
    back = rows(store_sessions, host)[PASSWD]
    assert back.status == "accepted" and back.fingerprint == back.accepted_fingerprint


def test_an_open_change_in_another_state_stays_open(store_sessions: sessionmaker[Session], host: str) -> None:
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)]))
    first = rows(store_sessions, host)[PASSWD].fingerprint
    later = T0 + timedelta(minutes=5)
    outcome = ingest(store_sessions, host, fim_result([changed(PASSWD, 12)], later), later)
    row = rows(store_sessions, host)[PASSWD]
    assert outcome.opened == 0 and row.status == "open" and row.fingerprint != first
    assert row.attributes[0]["after"] == "12"


def test_changes_no_longer_reported_are_resolved_and_reopen_fresh(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10), changed(HOSTS, 5)]))
    accept(store_sessions, host, HOSTS)
    t1, t2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    outcome = ingest(store_sessions, host, fim_result([], t1), t1)
    assert outcome.resolved == 2
    stored = rows(store_sessions, host)
    assert {r.status for r in stored.values()} == {"resolved"} and stored[HOSTS].resolved_at == t1
    outcome = ingest(store_sessions, host, fim_result([changed(HOSTS, 5)], t2), t2)
    hosts_row = rows(store_sessions, host)[HOSTS]
    assert outcome.opened == 1
    assert (hosts_row.status, hosts_row.first_seen_at, hosts_row.resolved_at) == ("open", t2, None)
    assert hosts_row.accepted_fingerprint is None and hosts_row.accepted_by is None


def test_an_unreadable_path_keeps_its_open_change(store_sessions: sessionmaker[Session], host: str) -> None:
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)]))
    later = T0 + timedelta(hours=1)
    result = fim_result([], later, errors=((PASSWD, "permission denied"),))
    assert ingest(store_sessions, host, result, later).resolved == 0
    assert rows(store_sessions, host)[PASSWD].status == "open"
    with store_sessions() as session:
        status = session.get(FimStatusRow, host)
        assert status is not None and status.unreadable == 1


def test_an_incomplete_upload_resolves_nothing_it_left_out(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    from dataclasses import replace

    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)]))
    later = T0 + timedelta(hours=1)
    flood = replace(fim_result([changed(HOSTS, 5)], later), complete=False)
    assert ingest(store_sessions, host, flood, later).resolved == 0
    assert {k: r.status for k, r in rows(store_sessions, host).items()} == {PASSWD: "open", HOSTS: "open"}


def test_a_removed_path_and_a_path_reported_twice(store_sessions: sessionmaker[Session], host: str) -> None:
    outcome = ingest(
        store_sessions, host, fim_result([removed(HOSTS), changed(PASSWD, 3), changed(PASSWD, 4)])
    )
    stored = rows(store_sessions, host)
    assert outcome.opened == 2 and stored[HOSTS].fingerprint == "" and stored[HOSTS].change == "removed"
    assert stored[PASSWD].attributes[0]["after"] == "3"


def test_an_older_upload_is_kept_but_not_applied(store_sessions: sessionmaker[Session], host: str) -> None:
    later = T0 + timedelta(hours=1)
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)], later), later)
    old = fim_result([changed(HOSTS, 5)], T0)
    outcome = ingest(store_sessions, host, old, later + timedelta(minutes=1))
    assert (outcome.stored, outcome.applied) == (True, False)
    assert set(rows(store_sessions, host)) == {PASSWD}
    with store_sessions() as session:
        assert session.get(Result, old.id) is not None
        status = session.get(FimStatusRow, host)
        assert status is not None and status.checked_at == later


def test_a_duplicate_result_id_changes_nothing(store_sessions: sessionmaker[Session], host: str) -> None:
    result_id = str(uuid.uuid4())
    first = fim_result([changed(PASSWD, 10)], result_id=result_id)
    assert ingest(store_sessions, host, first).stored
    later = T0 + timedelta(hours=1)
    same_id = fim_result([], later, result_id=result_id)
    assert ingest(store_sessions, host, same_id, later) == FimOutcome(stored=False)
    assert rows(store_sessions, host)[PASSWD].status == "open"
    with store_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 1


def test_a_refused_upload_records_the_refusal_and_leaves_changes(
    store_sessions: sessionmaker[Session], host: str
) -> None:
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)]))
    later = T0 + timedelta(hours=1)
    refusal = "baseline signature does not verify"
    outcome = ingest(store_sessions, host, fim_result([], later, refused=refusal), later)
    assert (outcome.stored, outcome.applied, outcome.refused) == (True, True, refusal)
    assert rows(store_sessions, host)[PASSWD].status == "open"
    with store_sessions() as session:
        status = session.get(FimStatusRow, host)
        assert status is not None and status.refused == refusal and status.checked_at == later
        assert status.baseline_digest == BASELINE["digest"]  # the last verified baseline stays named
    cleared = T0 + timedelta(hours=2)
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)], cleared), cleared)
    with store_sessions() as session:
        status = session.get(FimStatusRow, host)
        assert status is not None and status.refused == ""


def test_a_refusal_on_a_host_without_a_check_yet(store_sessions: sessionmaker[Session], host: str) -> None:
    outcome = ingest(store_sessions, host, fim_result([], refused="no fim baseline at /x"))
    assert outcome.applied and outcome.refused == "no fim baseline at /x"
    with store_sessions() as session:
        status = session.get(FimStatusRow, host)
        assert status is not None and (status.entries, status.key_id) == (0, "")


def test_an_unknown_host_is_an_error(store_sessions: sessionmaker[Session]) -> None:
    with pytest.raises(InventoryError, match="unknown host"):
        ingest(store_sessions, "h-0000000000000000", fim_result([]))


def test_deleting_a_host_deletes_its_fim_rows(store_sessions: sessionmaker[Session], host: str) -> None:
    ingest(store_sessions, host, fim_result([changed(PASSWD, 10)]))
    with write_session(store_sessions) as session:
        session.delete(session.get(Host, host))
    with store_sessions() as session:
        assert session.scalar(select(func.count()).select_from(FimChangeRow)) == 0
        assert session.scalar(select(func.count()).select_from(FimStatusRow)) == 0


def test_a_path_of_the_longest_length_is_stored(store_sessions: sessionmaker[Session], host: str) -> None:
    noise = random.Random(7)  # incompressible: its base64 would not fit a PostgreSQL index entry
    longest = b"/" + bytes(noise.randrange(1, 256) for _ in range(4095))
    ingest(store_sessions, host, fim_result([changed(longest, 2)]))
    stored = rows(store_sessions, host)[longest]
    assert len(stored.path_b64) == 5464 and stored.path.startswith("/")
    accept(store_sessions, host, longest)
    assert rows(store_sessions, host)[longest].status == "accepted"


def test_lists_put_review_first_and_accepting_names_what_is_not_open(
    store_sessions: sessionmaker[Session], add_host: Callable[..., str]
) -> None:
    web, db = add_host("web-1"), add_host("db-1")
    ingest(store_sessions, web, fim_result([changed(b"/usr/lib/a", 2, Cause.PACKAGE, "libc6")]))
    ingest(
        store_sessions, db, fim_result([changed(b"/etc/z", 2), changed(b"/var/cache/g", 3, Cause.GENERATED)])
    )
    ingest(
        store_sessions,
        web,
        fim_result([changed(b"/usr/lib/a", 2, Cause.PACKAGE_MODIFIED)], T0 + timedelta(1)),
    )
    with store_sessions() as session:
        total, page = list_changes(session, ChangeFilter(frozenset({web, db})), limit=10, offset=0)
        assert total == 3
        assert [(r.path, hostname) for r, hostname in page] == [
            ("/etc/z", "db-1"),
            ("/usr/lib/a", "web-1"),
            ("/var/cache/g", "db-1"),
        ]
        total, page = list_changes(session, ChangeFilter(frozenset({web}), host="db-1"), limit=10, offset=0)
        assert (total, page) == (0, [])
        generated = ChangeFilter(frozenset({web, db}), cause="generated")
        assert list_changes(session, generated, limit=10, offset=0)[0] == 1
    with write_session(store_sessions) as session:
        accepted, missing = accept_changes(
            session, db, [path_key(b"/etc/z"), path_key(b"/nope")], "o", "r", T0
        )
    assert (accepted, missing) == ([], [path_key(b"/nope")])
    with write_session(store_sessions) as session:
        accepted, missing = accept_changes(session, db, None, "o", "r", T0)
    assert [r.path for r in accepted] == ["/etc/z", "/var/cache/g"] and missing == []
    with store_sessions() as session:
        hosts = [session.get(Host, h) for h in (web, db)]
        states = host_states(session, [h for h in hosts if h is not None])
    assert [(s.host.hostname, s.open, s.accepted) for s in states] == [
        ("web-1", {"package-modified": 1}, 0),
        ("db-1", {}, 2),
    ]
