"""Login name validation, account lookup, the root rule and the login-shell rule."""

from __future__ import annotations

import pytest

from rampart.agent.sessions.runas import LoginUser, require_login_shell, resolve_login, validate_login_name
from rampart.errors import SessionRefused
from unit.agent.sessions.session_helpers import Accounts

BAD_NAMES = [
    "",
    "../x",
    "x/y",
    "a b",
    "Root",
    "ROOT",
    "x" * 40,
    "a" * 33,
    "-rf",
    "1abc",
    "a\n",
    "\na",
    "a\x00",
    "a;id",
    "$(id)",
    "é",
    "a.b",
    " root",
    "root ",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_before_any_lookup(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(_: str) -> None:
        raise AssertionError("looked up an invalid name")

    monkeypatch.setattr("rampart.agent.sessions.runas.pwd.getpwnam", no_lookup)
    with pytest.raises(SessionRefused, match=r"^invalid user name$"):
        resolve_login(name, allow_root=True)


@pytest.mark.parametrize("name", ["a", "_", "root", "www-data", "a" * 32, "user_1", "x-"])
def test_good_names_pass_validation(name: str) -> None:
    assert validate_login_name(name) == name


def test_non_string_name_is_refused() -> None:
    with pytest.raises(SessionRefused, match="invalid user name"):
        validate_login_name(7)  # type: ignore[arg-type]


def test_unknown_user_is_refused_with_its_name() -> None:
    with pytest.raises(SessionRefused, match=r"^no such user 'rptnosuch' on this host$"):
        resolve_login("rptnosuch", allow_root=False)


def test_root_is_refused_unless_allowed() -> None:
    with pytest.raises(SessionRefused, match=r"^root is not allowed$"):
        resolve_login("root", allow_root=False)
    root = resolve_login("root", allow_root=True)
    assert (root.uid, root.gid, root.home) == (0, 0, "/root")


def test_resolved_account_has_its_ids_groups_home_and_shell(accounts: Accounts) -> None:
    alice = resolve_login(accounts.alice.name, allow_root=False)
    assert alice.uid != 0
    assert alice.gid in alice.groups
    assert alice.home == f"/home/{alice.name}"
    assert alice.shell == "/bin/bash"


def test_nologin_shell_is_refused_for_shells_only(accounts: Accounts) -> None:
    with pytest.raises(SessionRefused, match="may not log in"):
        require_login_shell(accounts.nologin)
    require_login_shell(accounts.alice)


@pytest.mark.parametrize("shell", ["/bin/false", "/usr/bin/false", "/sbin/nologin", "bash"])
def test_unusable_shells_are_refused(shell: str) -> None:
    user = LoginUser(name="u", uid=1000, gid=1000, groups=(1000,), home="/home/u", shell=shell)
    with pytest.raises(SessionRefused):
        require_login_shell(user)
