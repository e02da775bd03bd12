"""The stored login: where it lives, precedence of options > env > file, file modes, hostile files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from rampart.client.config import (
    ClientConfig,
    Connection,
    config_path,
    forget_token,
    load_config,
    mask,
    resolve,
    save_config,
)
from rampart.errors import ClientError

TOKEN = "rpt_0123456789abcdef_" + "x" * 43
SERVER = "https://a.example"


def test_config_path_precedence(tmp_path: Path) -> None:
    assert config_path({"RAMPART_CONFIG": "/x/c.json", "XDG_CONFIG_HOME": "/y"}) == Path("/x/c.json")
    assert config_path({"XDG_CONFIG_HOME": "/y"}) == Path("/y/rampart/client.json")
    assert config_path({}) == Path.home() / ".config" / "rampart" / "client.json"


def test_save_is_private_and_round_trips(client_env: Path) -> None:
    config = ClientConfig(SERVER, TOKEN, "PEM", "alice")
    save_config(client_env, config)
    assert load_config(client_env) == config
    assert stat.S_IMODE(client_env.stat().st_mode) == 0o600
    assert stat.S_IMODE(client_env.parent.stat().st_mode) == 0o700
    assert [p.name for p in client_env.parent.iterdir()] == ["client.json"]  # no temporary left behind


def test_save_tightens_a_loose_rampart_directory(client_env: Path) -> None:
    client_env.parent.mkdir(parents=True, mode=0o755)
    client_env.parent.chmod(0o755)
    save_config(client_env, ClientConfig(SERVER))
    assert stat.S_IMODE(client_env.parent.stat().st_mode) == 0o700


def test_missing_file_is_an_empty_login(client_env: Path) -> None:
    assert load_config(client_env) == ClientConfig()


def test_a_file_others_can_read_is_refused(client_env: Path) -> None:
    save_config(client_env, ClientConfig(SERVER, TOKEN))
    client_env.chmod(0o644)
    with pytest.raises(ClientError, match="chmod 600"):
        load_config(client_env)


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'{"token": 5}', b'{"server": ["x"]}', b"\xff\xfe", b'"just a string"', b"{" * 100000],
)
def test_malformed_files_are_one_clear_error(client_env: Path, content: bytes) -> None:
    client_env.parent.mkdir(parents=True)
    client_env.write_bytes(content)
    client_env.chmod(0o600)
    with pytest.raises(ClientError) as error:
        load_config(client_env)
    assert "\n" not in error.value.message


def test_a_huge_file_is_refused(client_env: Path) -> None:
    client_env.parent.mkdir(parents=True)
    client_env.write_bytes(b" " * (2 << 20))
    client_env.chmod(0o600)
    with pytest.raises(ClientError, match="larger"):
        load_config(client_env)


def test_unknown_fields_are_ignored(client_env: Path) -> None:
    client_env.parent.mkdir(parents=True)
    client_env.write_text('{"server": "https://a.example", "future": 1}')
    client_env.chmod(0o600)
    assert load_config(client_env).server == SERVER


def test_precedence_options_then_env_then_file(client_env: Path) -> None:
    save_config(client_env, ClientConfig(SERVER, TOKEN, "PEM", "alice"))
    env = {"RAMPART_CONFIG": str(client_env)}
    assert resolve(None, None, env=env) == Connection(SERVER, TOKEN, "PEM")
    env_over = {**env, "RAMPART_TOKEN": "rpt_env"}
    assert resolve(None, None, env=env_over).token == "rpt_env"
    assert resolve(None, "rpt_opt", env=env_over).token == "rpt_opt"
    assert resolve("https://a.example/", None, env=env).ca_pem == "PEM"


def test_the_stored_token_is_never_sent_to_another_server(client_env: Path) -> None:
    save_config(client_env, ClientConfig(SERVER, TOKEN, "PEM", "alice"))
    env = {"RAMPART_CONFIG": str(client_env), "RAMPART_SERVER": "https://evil.example"}
    with pytest.raises(ClientError, match="not logged in"):
        resolve(None, None, env=env)
    connection = resolve(None, None, env=env, need_token=False)
    assert connection.token is None and connection.ca_pem is None


def test_no_server_anywhere(client_env: Path) -> None:
    with pytest.raises(ClientError, match="no server"):
        resolve(None, None, env={"RAMPART_CONFIG": str(client_env)})


def test_forget_token_keeps_the_rest(client_env: Path) -> None:
    save_config(client_env, ClientConfig(SERVER, TOKEN, "PEM", "alice"))
    forget_token(client_env)
    assert load_config(client_env) == ClientConfig(SERVER, None, "PEM", "alice")


def test_tokens_never_show_in_reprs() -> None:
    config = ClientConfig(SERVER, TOKEN, "PEM", "alice")
    connection = Connection(SERVER, TOKEN, "PEM")
    for text in (repr(config), str(config), repr(connection), str(connection)):
        assert TOKEN not in text and "x" * 10 not in text
    assert mask(TOKEN) == "rpt_***" and mask("other") == "***" and mask(None) == "None"
