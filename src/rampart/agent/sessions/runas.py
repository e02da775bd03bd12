"""Which OS account a session runs as: name validation, lookup, and the root and login-shell rules."""

from __future__ import annotations

import os
import pwd
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from rampart.errors import SessionRefused

LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")

# Shells that mean "this account may not log in".
NO_LOGIN_SHELLS = frozenset({"nologin", "false"})
DEFAULT_SHELL = "/bin/sh"


@dataclass(frozen=True)
class LoginUser:
    """One resolved account: ids, supplementary groups, home directory and login shell."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str
    shell: str


def validate_login_name(name: str) -> str:
    """The name itself, or SessionRefused when it is not a plain login name."""
    if not isinstance(name, str) or LOGIN_NAME.fullmatch(name) is None:
        raise SessionRefused("invalid user name")
    return name


def resolve_login(name: str, *, allow_root: bool) -> LoginUser:
    """Look the account up (after validating the name); uid 0 only with ``allow_root``."""
    validate_login_name(name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SessionRefused(f"no such user '{name}' on this host") from None
    if entry.pw_uid == 0 and not allow_root:
        raise SessionRefused("root is not allowed")
    return _login_user(entry)


def _login_user(entry: pwd.struct_passwd) -> LoginUser:
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return LoginUser(
        name=entry.pw_name,
        uid=entry.pw_uid,
        gid=entry.pw_gid,
        groups=groups,
        home=entry.pw_dir,
        shell=entry.pw_shell or DEFAULT_SHELL,
    )


def require_login_shell(user: LoginUser) -> None:
    """Refuse an interactive shell to an account whose shell forbids logging in."""
    shell = PurePosixPath(user.shell)
    if shell.name in NO_LOGIN_SHELLS:
        raise SessionRefused(f"user '{user.name}' may not log in (shell {user.shell})")
    if not shell.is_absolute():
        raise SessionRefused(f"user '{user.name}' has no usable login shell")
