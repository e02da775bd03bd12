"""Repository functions for users, API tokens, join tokens and hosts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rampart.store import hosts, tokens, users
from rampart.store.engine import write_session

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def make_user(session: Session, name: str = "ann") -> None:
    users.create_user(session, name, "$argon2id$x", ["viewer", "admin", "viewer"], {"team": "red"}, T0)


def make_host(session: Session, host_id: str, hostname: str, **tags: str) -> None:
    hosts.add_host(
        session,
        host_id=host_id,
        hostname=hostname,
        os_id="debian",
        os_version="11",
        os_pretty=None,
        agent_version="0.1",
        tags=tags,
        enrolled_at=T0,
        public_key_pem="pem",
        cert_serial=f"s-{host_id}",
        cert_expires_at=T0 + 24 * HOUR,
    )


def test_user_lifecycle(store_sessions: sessionmaker[Session]) -> None:
    with write_session(store_sessions) as session:
        make_user(session)
        make_user(session, "bob")
    with write_session(store_sessions) as session:
        user = users.get_user(session, "ann")
        assert user is not None and (user.roles, user.tags, user.disabled) == (
            ["admin", "viewer"],
            {"team": "red"},
            False,
        )
        assert [u.name for u in users.list_users(session)] == ["ann", "bob"]
        users.update_user(session, "ann", roles=["operator"], disabled=True, tags={})
        assert users.update_user(session, "nobody", disabled=True) is None
    with write_session(store_sessions) as session:
        user = users.get_user(session, "ann")
        assert user is not None and (user.roles, user.tags, user.disabled) == (["operator"], {}, True)
        assert users.delete_user(session, "ann") and not users.delete_user(session, "ann")
        assert users.count_users(session) == 1


def test_duplicate_user_is_refused(store_sessions: sessionmaker[Session]) -> None:
    with write_session(store_sessions) as session:
        make_user(session)
    with pytest.raises(IntegrityError), write_session(store_sessions) as session:
        make_user(session)


def test_api_tokens(store_sessions: sessionmaker[Session]) -> None:
    with write_session(store_sessions) as session:
        make_user(session)
        tokens.add_api_token(session, "a" * 16, "ann", "ci", "h1", ["write", "read"], T0, T0 + HOUR)
        tokens.add_api_token(session, "b" * 16, "ann", "login", "h2", ["read"], T0 + HOUR, T0 + 2 * HOUR)
    with write_session(store_sessions) as session:
        assert [t.id for t in tokens.list_api_tokens(session, "ann")] == ["a" * 16, "b" * 16]
        assert tokens.revoke_api_token(session, "a" * 16, T0 + HOUR)
        assert not tokens.revoke_api_token(session, "a" * 16, T0 + 2 * HOUR)
        tokens.touch_api_token(session, "b" * 16, T0 + HOUR)
    with store_sessions() as session:
        first, second = tokens.get_api_token(session, "a" * 16), tokens.get_api_token(session, "b" * 16)
        assert first is not None and (first.scopes, first.revoked_at) == (["read", "write"], T0 + HOUR)
        assert second is not None and second.last_used_at == T0 + HOUR
    with write_session(store_sessions) as session:
        users.delete_user(session, "ann")
    with store_sessions() as session:
        assert tokens.list_api_tokens(session, "ann") == []


def test_join_token_is_spent_once(store_sessions: sessionmaker[Session]) -> None:
    with write_session(store_sessions) as session:
        tokens.add_join_token(session, "j1", "hash", {"env": "prod"}, "ann", T0, T0 + HOUR)
        tokens.add_join_token(session, "j2", "hash", {}, "ann", T0, T0 + HOUR)
    with write_session(store_sessions) as session:
        assert not tokens.consume_join_token(session, "j2", T0 + HOUR, "h-2")  # expired at that instant
        assert tokens.consume_join_token(session, "j1", T0, "h-1")
        assert not tokens.consume_join_token(session, "j1", T0, "h-x")
        assert not tokens.consume_join_token(session, "nope", T0, "h-x")
    with write_session(store_sessions) as session:
        token = tokens.get_join_token(session, "j1")
        assert token is not None and (token.used_at, token.host_id, token.tags) == (
            T0,
            "h-1",
            {"env": "prod"},
        )
        assert [t.id for t in tokens.list_join_tokens(session)] == ["j1", "j2"]
        assert tokens.delete_join_token(session, "j2") and not tokens.delete_join_token(session, "j2")


def test_concurrent_consumers_get_one_success(store_sessions: sessionmaker[Session]) -> None:
    with write_session(store_sessions) as session:
        tokens.add_join_token(session, "j1", "hash", {}, "ann", T0, T0 + HOUR)
    barrier, results = threading.Barrier(4), []

    def consume(n: int) -> None:
        barrier.wait()
        with store_sessions() as session:
            results.append(tokens.consume_join_token(session, "j1", T0, f"h-{n}"))
            session.commit()

    threads = [threading.Thread(target=consume, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]


def test_hosts(store_sessions: sessionmaker[Session]) -> None:
    with write_session(store_sessions) as session:
        make_host(session, "h-1", "web", team="red")
        make_host(session, "h-2", "db", team="blue")
        make_host(session, "h-3", "web")
    with write_session(store_sessions) as session:
        assert [h.id for h in hosts.list_hosts(session)] == ["h-2", "h-1", "h-3"]
        hosts.mark_seen(session, "h-1", T0 + HOUR)
        hosts.mark_seen(session, "h-1", T0)  # never goes backwards
        assert hosts.revoke_host(session, "h-3", T0) is not None
        assert hosts.revoke_host(session, "h-404", T0) is None
        hosts.update_os(session, "h-2", "ubuntu", "22.04", "Ubuntu 22.04")
    with write_session(store_sessions) as session:
        web = hosts.get_host(session, "h-1")
        assert web is not None and web.last_seen_at == T0 + HOUR
        assert [h.id for h in hosts.list_hosts(session) if h.revoked_at is not None] == ["h-3"]
        db = hosts.get_host(session, "h-2")
        assert db is not None and (db.os_id, db.os_version, db.os_pretty) == (
            "ubuntu",
            "22.04",
            "Ubuntu 22.04",
        )
        found = hosts.find_host(session, "web")
        assert found is not None and found.id in {"h-1", "h-3"}
        assert hosts.find_host(session, "h-2") is db and hosts.find_host(session, "nope") is None


def test_credential_rotation_keeps_the_previous_serial(store_sessions: sessionmaker[Session]) -> None:
    with write_session(store_sessions) as session:
        make_host(session, "h-1", "web")
    with write_session(store_sessions) as session:
        host = hosts.rotate_credential(session, "h-1", "pem2", "s-new", T0 + 48 * HOUR)
        assert host is not None and (host.cert_serial, host.previous_cert_serial) == ("s-new", "s-h-1")
        assert hosts.rotate_credential(session, "h-404", "p", "s", T0) is None
    with store_sessions() as session:
        stored = hosts.get_host(session, "h-1")
        assert stored is not None and (stored.cert_serial, stored.previous_cert_serial) == ("s-new", "s-h-1")
