"""The login environment: what it holds, what it never inherits, and how its two config files are parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.agent.sessions.environment import (
    DEFAULT_MAIL_DIR,
    DEFAULT_PATH,
    DEFAULT_SUPATH,
    DEFAULT_UMASK,
    MAX_CONFIG_BYTES,
    LoginDefaults,
    login_environment,
    parse_locale,
    parse_login_defs,
    read_config,
    validate_term,
)
from rampart.agent.sessions.runas import LoginUser
from rampart.errors import SessionRefused

USER = LoginUser(name="carol", uid=1234, gid=1234, groups=(1234, 27), home="/home/carol", shell="/bin/bash")
ROOT = LoginUser(name="root", uid=0, gid=0, groups=(0,), home="/root", shell="/bin/bash")

LOGIN_DEFS = """\
# comment
MAIL_DIR        /var/spool/mail
ENV_SUPATH\tPATH=/sbin:/bin
ENV_PATH\tPATH=/usr/bin:/bin
UMASK\t\t027
"""


def _env(
    tmp_path: Path, user: LoginUser, term: str | None, defs: str = LOGIN_DEFS, locale: str = ""
) -> dict[str, str]:
    (tmp_path / "login.defs").write_text(defs)
    (tmp_path / "locale").write_text(locale)
    return login_environment(user, term, login_defs=tmp_path / "login.defs", locale_file=tmp_path / "locale")


def test_environment_of_an_ordinary_user(tmp_path: Path) -> None:
    env = _env(tmp_path, USER, "xterm-256color", locale='LANG="C.UTF-8"\n')
    assert env == {
        "HOME": "/home/carol",
        "USER": "carol",
        "LOGNAME": "carol",
        "SHELL": "/bin/bash",
        "PATH": "/usr/bin:/bin",
        "MAIL": "/var/spool/mail/carol",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }


def test_root_gets_the_superuser_path_and_no_term_when_none_given(tmp_path: Path) -> None:
    env = _env(tmp_path, ROOT, None)
    assert env["PATH"] == "/sbin:/bin"
    assert "TERM" not in env


def test_nothing_is_inherited_from_the_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAMPART_TEST_MARKER", "leak")
    monkeypatch.setenv("LD_PRELOAD", "/tmp/evil.so")
    env = _env(tmp_path, USER, "xterm")
    assert "RAMPART_TEST_MARKER" not in env
    assert "LD_PRELOAD" not in env
    assert set(env) == {"HOME", "USER", "LOGNAME", "SHELL", "PATH", "MAIL", "TERM"}


def test_missing_files_give_debian_defaults(tmp_path: Path) -> None:
    env = login_environment(USER, None, login_defs=tmp_path / "nope", locale_file=tmp_path / "nope")
    assert env["PATH"] == DEFAULT_PATH
    assert env["MAIL"] == f"{DEFAULT_MAIL_DIR}/carol"
    assert login_environment(ROOT, None, login_defs=tmp_path / "nope")["PATH"] == DEFAULT_SUPATH


def test_the_real_files_of_this_host_are_usable() -> None:
    env = login_environment(USER, "xterm")
    assert env["PATH"].startswith("/")
    assert "\n" not in "".join(env.values())


@pytest.mark.parametrize(
    "term", ["xterm", "xterm-256color", "vt100", "screen.xterm-256color", "rxvt-unicode+x"]
)
def test_good_terminal_types(term: str) -> None:
    assert validate_term(term) == term


@pytest.mark.parametrize(
    "term",
    ["", "../../etc/passwd", "x/y", "xterm color", "xterm\n", "x" * 65, "\x1b[31m", "-x", "é", "x\x00"],
)
def test_bad_terminal_types(term: str, tmp_path: Path) -> None:
    with pytest.raises(SessionRefused, match=r"^invalid terminal type$"):
        _env(tmp_path, USER, term)


def test_login_defs_accepts_paths_without_the_prefix() -> None:
    defaults = parse_login_defs("ENV_PATH /opt/bin:/bin\nENV_SUPATH /sbin\n")
    assert (defaults.path, defaults.supath) == ("/opt/bin:/bin", "/sbin")


def test_login_defs_first_setting_wins() -> None:
    assert parse_login_defs("ENV_PATH /a\nENV_PATH /b\n").path == "/a"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ENV_PATH",
        "ENV_PATH PATH=",
        "ENV_PATH PATH=/bin with space",
        "ENV_PATH PATH=/bin\x1b[2J",
        "ENV_PATH PATH=/bin\x00:/x",
        "ENV_PATH " + "x" * 5000,
        "UMASK 999",
        "UMASK 0x1f",
        "UMASK 07777",
        "MAIL_DIR relative/dir",
        "MAIL_DIR /a:/b",
        "ENV_PATH PATH=.:/bin",
        "ENV_PATH PATH=/bin::/usr/bin",
        "\x00\x01\x02\xff garbage",
        "#ENV_PATH /commented",
    ],
)
def test_malformed_login_defs_fall_back(text: str) -> None:
    defaults = parse_login_defs(text)
    assert defaults.path == DEFAULT_PATH
    assert defaults.umask == DEFAULT_UMASK
    assert defaults.mail_dir == DEFAULT_MAIL_DIR


def test_malformed_values_are_replaced_one_by_one() -> None:
    assert parse_login_defs("ENV_PATH PATH=/a b\nUMASK 077\n") == LoginDefaults(umask=0o077)


def test_truncated_login_defs_keeps_what_is_whole() -> None:
    assert parse_login_defs(LOGIN_DEFS[: LOGIN_DEFS.index("ENV_PATH") + 9]).supath == "/sbin:/bin"


def test_huge_config_files_are_ignored(tmp_path: Path) -> None:
    huge = tmp_path / "login.defs"
    huge.write_text("ENV_PATH /evil\n" + "#" * MAX_CONFIG_BYTES)
    assert read_config(huge) == ""
    assert login_environment(USER, None, login_defs=huge, locale_file=tmp_path / "x")["PATH"] == DEFAULT_PATH


def test_unreadable_config_is_ignored(tmp_path: Path) -> None:
    assert read_config(tmp_path) == ""


def test_locale_reads_lang_and_lc_variables() -> None:
    text = "# generated\nLANG=en_GB.UTF-8\nLC_TIME='de_DE.UTF-8'\nexport LANGUAGE=\"en_GB:en\"\n"
    assert parse_locale(text) == {"LANG": "en_GB.UTF-8", "LC_TIME": "de_DE.UTF-8", "LANGUAGE": "en_GB:en"}


@pytest.mark.parametrize(
    "line",
    [
        "PATH=/tmp",
        "LD_PRELOAD=/tmp/x.so",
        "LANG=$(id)",
        "LANG=en US",
        "LANG=",
        'LANG="unterminated',
        "LANG=a\x1b[0m",
        "lang=C",
        "LC_=C",
        "LANG",
        "=C",
        "LANG=" + "x" * 300,
        "\x00LANG=C",
    ],
)
def test_locale_junk_is_ignored(line: str) -> None:
    assert parse_locale(line) == {}


def test_locale_never_overrides_login_variables(tmp_path: Path) -> None:
    env = _env(tmp_path, USER, None, locale="HOME=/tmp\nUSER=root\nLC_ALL=C\n")
    assert (env["HOME"], env["USER"], env["LC_ALL"]) == ("/home/carol", "carol", "C")
