"""The server commands end to end through the real root app, with the ApiClient double injected at the
one seam (``use_client_factory``): options, JSON when piped, tables on request, escaping, secrets."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rampart.cli.main import app
from rampart.client.config import ClientConfig, load_config, save_config
from rampart.errors import ApiError, ClientError, UsageError
from unit.client.fake import SECRET, FakeApi, injected
from unit.client.samples import HOST_A, HOST_B

SERVER = "https://rampart.example:8443"
ENV = {"RAMPART_SERVER": SERVER, "RAMPART_TOKEN": SECRET}


def run(fake: FakeApi, args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    with injected(fake):
        environment = {"COLUMNS": "200", **(ENV if env is None else env)}
        return CliRunner().invoke(app, args, env=environment, input=stdin)


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


# --- login / logout / whoami -----------------------------------------------------------------


def test_login_stores_the_token_privately_and_never_prints_it(client_env: Path) -> None:
    fake = FakeApi()
    result = run(fake, ["login", "--server", SERVER, "--user", "alice"], env={"RAMPART_PASSWORD": "pw"})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert fake.called("login") == [(("alice", "pw"), {})]
    stored = load_config(client_env)
    assert (stored.server, stored.token, stored.user) == (SERVER, SECRET, "alice")
    assert stat.S_IMODE(client_env.stat().st_mode) == 0o600
    assert stat.S_IMODE(client_env.parent.stat().st_mode) == 0o700


def test_login_with_a_pin_fetches_and_stores_the_ca(client_env: Path) -> None:
    fake = FakeApi()
    pin = "sha256:" + "ab" * 32
    result = run(
        fake, ["login", "--server", SERVER, "-u", "a", "--ca-sha256", pin], env={"RAMPART_PASSWORD": "p"}
    )
    assert result.exit_code == 0, result.output
    assert fake.called("fetch_pinned_ca") == [((pin,), {})]
    assert load_config(client_env).ca_pem is not None
    assert fake.connections[-1].ca_pem == load_config(client_env).ca_pem  # login itself trusted the pinned CA


def test_login_refuses_both_ca_options_and_plain_http_elsewhere() -> None:
    fake = FakeApi()
    both = run(fake, ["login", "--server", SERVER, "-u", "a", "--ca", "x", "--ca-sha256", "ab"], env={})
    assert isinstance(both.exception, UsageError)
    plain = run(
        fake, ["login", "--server", "http://rampart.example", "-u", "a"], env={"RAMPART_PASSWORD": "p"}
    )
    assert isinstance(plain.exception, UsageError) and "loopback" in plain.exception.message
    assert fake.calls == []


def test_login_without_a_terminal_or_password_says_how() -> None:
    result = run(FakeApi(), ["login", "--server", SERVER, "-u", "a"], env={})
    assert isinstance(result.exception, UsageError) and "RAMPART_PASSWORD" in result.exception.message


def test_logout_revokes_and_forgets_the_stored_token(client_env: Path) -> None:
    save_config(client_env, ClientConfig(SERVER, SECRET, None, "alice"))
    fake = FakeApi()
    result = run(fake, ["logout"], env={})
    assert result.exit_code == 0 and fake.called("logout")
    assert load_config(client_env) == ClientConfig(SERVER, None, None, "alice")


def test_logout_with_an_already_dead_token_still_forgets_it(client_env: Path) -> None:
    save_config(client_env, ClientConfig(SERVER, SECRET, None, "alice"))
    fake = FakeApi(fail={"logout": ApiError(401, "server said 401: token expired")})
    assert run(fake, ["logout"], env={}).exit_code == 0
    assert load_config(client_env).token is None


def test_whoami_json_and_text() -> None:
    document = as_json(run(FakeApi(), ["whoami"]))
    assert document["name"] == "alice" and document["token"]["scopes"] == ["read"]
    text = run(FakeApi(), ["whoami", "--format", "table"]).stdout
    assert "alice" in text and "team=payments" in text and SECRET not in text


def test_no_login_at_all_is_one_clear_error() -> None:
    result = run(FakeApi(), ["whoami"], env={})
    assert isinstance(result.exception, ClientError) and "rampart login" in result.exception.message


def test_options_beat_the_environment() -> None:
    fake = FakeApi()
    run(fake, ["whoami", "--server", "https://other:1", "--token", "rpt_x"])
    assert fake.connections[-1].server == "https://other:1"
    assert fake.connections[-1].token == "rpt_x"


# --- hosts -----------------------------------------------------------------------------------


def test_hosts_list_is_json_when_piped_and_passes_filters() -> None:
    fake = FakeApi()
    hosts = as_json(run(fake, ["hosts", "list", "--tag", "env=prod", "--stale", "--status", "stale"]))
    assert [h["id"] for h in hosts][:1] == [HOST_A]
    assert fake.called("hosts") == [((), {"tags": (("env", "prod"),), "stale": True, "status": "stale"})]
    assert SECRET not in json.dumps(hosts)


def test_hosts_list_table_escapes_hostile_hostnames() -> None:
    text = run(FakeApi(), ["hosts", "list", "--format", "table"]).stdout
    assert "\x1b" not in text and "\u202e" not in text
    assert "evil\\x1b[2J\\x0ahost" in text and "stale (!)" in text


def test_hosts_show_accepts_a_hostname() -> None:
    fake = FakeApi()
    document = as_json(run(fake, ["hosts", "show", "db-1"]))
    assert document["id"] == HOST_B and fake.called("host") == [((HOST_B,), {})]


def test_hosts_show_unknown_or_ambiguous_hostname() -> None:
    assert isinstance(run(FakeApi(), ["hosts", "show", "nope"]).exception, UsageError)
    fake = FakeApi()
    fake.hosts_list = [*fake.hosts_list, fake.hosts_list[0]]
    twice = run(fake, ["hosts", "show", "web-1"])
    assert isinstance(twice.exception, UsageError) and "use an id" in twice.exception.message


def test_hosts_revoke_needs_yes_without_a_terminal() -> None:
    fake = FakeApi()
    refused = run(fake, ["hosts", "revoke", HOST_A])
    assert isinstance(refused.exception, UsageError) and not fake.called("revoke_host")
    assert as_json(run(fake, ["hosts", "revoke", HOST_A, "--yes"]))["id"] == HOST_A


def test_hosts_scan_and_packages() -> None:
    assert as_json(run(FakeApi(), ["hosts", "scan", HOST_A])) == {"host_id": HOST_A, "job_id": "job-1"}
    packages = as_json(run(FakeApi(), ["hosts", "packages", HOST_A]))
    assert packages[0]["name"] == "openssl"
    assert "openssl" in run(FakeApi(), ["hosts", "packages", HOST_A, "-f", "table"]).stdout


# --- findings --------------------------------------------------------------------------------


def test_findings_list_builds_the_query() -> None:
    fake = FakeApi()
    args = ["findings", "list", "-s", "high,critical", "--host", "web-1", "--tag", "team=payments"]
    args += ["--package", "openssl", "--advisory", "CVE-2024-0727", "--fixable", "--status", "all"]
    as_json(run(fake, args))
    (query,), _ = fake.called("findings")[0]
    assert query.params() == [
        ("status", "all"),
        ("severity", "HIGH,CRITICAL"),
        ("host", "web-1"),
        ("package", "openssl"),
        ("advisory", "CVE-2024-0727"),
        ("tag", "team=payments"),
        ("fixable", "true"),
    ]


def test_findings_take_one_tag() -> None:
    result = run(FakeApi(), ["findings", "list", "--tag", "a=1,b=2"])
    assert isinstance(result.exception, UsageError) and "one tag" in result.exception.message


def test_findings_list_rejects_an_unknown_severity() -> None:
    result = run(FakeApi(), ["findings", "list", "-s", "HIGH,SEVERE"])
    assert isinstance(result.exception, UsageError) and "SEVERE" in result.exception.message


def test_findings_table_and_summaries() -> None:
    text = run(FakeApi(), ["findings", "list", "-f", "table"]).stdout
    assert "CVE-2024-5535" in text and "\x1b" not in text
    assert as_json(run(FakeApi(), ["findings", "summary"]))["hosts"] == 3
    assert len(as_json(run(FakeApi(), ["findings", "summary", "--by", "host"]))) == 2
    assert "CRITICAL" in run(FakeApi(), ["findings", "summary", "--by", "host", "-f", "table"]).stdout


@pytest.mark.parametrize("kind", ["json", "csv", "sarif"])
def test_findings_export_to_a_file(tmp_path: Path, kind: str) -> None:
    target = tmp_path / f"out.{kind}"
    result = run(FakeApi(), ["findings", "export", "--format", kind, "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    data = target.read_bytes()
    if kind == "csv":
        assert data.startswith(b"host_id,") and b"\r\n" in data
    else:
        assert json.loads(data)


# --- users, tokens, join tokens --------------------------------------------------------------


def test_users_list_escapes_and_create_reads_the_password() -> None:
    text = run(FakeApi(), ["users", "list", "-f", "table"]).stdout
    assert "bob\\x1b[31m" in text and "\x1b" not in text
    fake = FakeApi()
    env = {**ENV, "RAMPART_PASSWORD": "pw"}
    created = as_json(
        run(
            fake,
            ["users", "create", "carol", "--role", "operator", "--role", "auditor", "--tag", "team=x"],
            env,
        )
    )
    assert created["roles"] == ["operator", "auditor"]
    assert fake.called("create_user") == [(("carol", "pw", ["operator", "auditor"], {"team": "x"}), {})]


def test_users_update_and_delete() -> None:
    fake = FakeApi()
    env = {**ENV, "RAMPART_PASSWORD": "new"}
    as_json(run(fake, ["users", "update", "bob", "--role", "viewer", "--disable", "--password"], env))
    assert fake.called("update_user") == [
        (("bob",), {"password": "new", "roles": ["viewer"], "tags": None, "disabled": True})
    ]
    as_json(run(fake, ["users", "update", "bob", "--clear-tags"]))
    assert fake.called("update_user")[-1][1]["tags"] == {}
    assert isinstance(run(fake, ["users", "update", "bob"]).exception, UsageError)
    assert run(fake, ["users", "delete", "bob", "--yes"]).exit_code == 0
    assert fake.called("delete_user") == [(("bob",), {})]


def test_tokens_create_shows_the_secret_once_with_a_warning() -> None:
    fake = FakeApi()
    document = as_json(run(fake, ["tokens", "create", "ci", "--scope", "read", "--expires", "7d"]))
    assert document["token"] == SECRET
    assert fake.called("create_token") == [(("ci", ["read"], 7 * 86400), {})]
    result = run(fake, ["tokens", "create", "ci", "-f", "table"])
    assert result.stdout == SECRET + "\n" and "shown only once" in result.stderr


def test_tokens_list_never_shows_secrets_and_revoke() -> None:
    assert SECRET not in run(FakeApi(), ["tokens", "list"]).stdout
    assert "ci" in run(FakeApi(), ["tokens", "list", "-f", "table"]).stdout
    fake = FakeApi()
    assert run(fake, ["tokens", "revoke", "0123456789abcdef"]).exit_code == 0
    assert fake.called("revoke_token") == [(("0123456789abcdef",), {})]


def test_tokens_expiry_out_of_range() -> None:
    result = run(FakeApi(), ["tokens", "create", "ci", "--expires", "30s"])
    assert isinstance(result.exception, UsageError)


def test_join_token_commands_through_their_own_app() -> None:
    from rampart.cli.jointokens import join_tokens_app

    fake = FakeApi()
    with injected(fake):
        runner = CliRunner()
        created = runner.invoke(
            join_tokens_app, ["create", "--tags", "env=prod,team=payments", "--expires", "1h"], env=ENV
        )
        listed = runner.invoke(join_tokens_app, ["list"], env=ENV)
        revoked = runner.invoke(join_tokens_app, ["revoke", "j1"], env=ENV)
    assert json.loads(created.stdout)["token"].startswith("rpj_") and "shown only once" in created.stderr
    assert fake.called("create_join_token") == [(({"env": "prod", "team": "payments"}, 3600), {})]
    assert json.loads(listed.stdout)[0]["id"] == "j1"
    assert revoked.exit_code == 0 and fake.called("revoke_join_token") == [(("j1",), {})]


def test_bad_tags_are_a_usage_error() -> None:
    for bad in ("noequals", "UPPER=x", "k=\x1b"):
        result = run(FakeApi(), ["hosts", "list", "--tag", bad])
        assert isinstance(result.exception, UsageError), bad


def test_api_errors_reach_the_user_as_the_server_said_them() -> None:
    fake = FakeApi(fail={"hosts": ApiError(403, "server said 403: forbidden")})
    result = run(fake, ["hosts", "list"])
    assert isinstance(result.exception, ApiError) and result.exception.message == "server said 403: forbidden"
    assert fake.closed == 1


def test_the_entry_point_prints_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from rampart.cli.main import run as entry

    monkeypatch.setattr(sys, "argv", ["rampart", "hosts", "list"])
    fake = FakeApi(fail={"hosts": ApiError(403, "server said 403: forbidden")})
    with injected(fake), pytest.raises(SystemExit) as exit_info:
        monkeypatch.setenv("RAMPART_SERVER", SERVER)
        monkeypatch.setenv("RAMPART_TOKEN", SECRET)
        entry()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == "rampart: error: server said 403: forbidden\n" and SECRET not in err
    assert os.environ.get("RAMPART_TOKEN") == SECRET
