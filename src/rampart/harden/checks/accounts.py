"""``accounts``: consistency and policy of the account databases (facts/accounts.py), one ``assert`` per question.

Asserts: uid0_only_root, gid0_only_root (accounts with primary group 0; root, sync, shutdown, halt, operator
exempt), group_gid0_only_root, shadowed_passwords, no_empty_passwords, passwd_groups_exist, shadow_group_empty,
unique_uids, unique_gids, unique_usernames, unique_groupnames, system_accounts_nologin (uid below UID_MIN or
65534 with a login shell; root, sync, shutdown, halt exempt), nologin_accounts_locked, last_change_in_past
(``today``: days since 1970, default the clock), root_path (root's PATH from login.defs ENV_SUPATH,
/etc/environment and root's profile files), interactive_homes, dot_files, shadow_field (``field``
max_days|min_days|warn_days|inactive with ``op``/``value``, for accounts with a password), nologin_not_in_shells,
root_umask (``value``: the loosest acceptable umask, default 027), root_locked_or_password.
``exempt`` adds account names an assert ignores. No password hash ever reaches evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.accounts import (
    AccountFacts,
    Home,
    account_facts,
    duplicates,
    interactive_homes,
    root_paths,
    root_umasks,
    shown,
)
from rampart.harden.facts.values import Op, compare, describe
from rampart.harden.model import Outcome

MAX_SHOWN = 20
Assert = Literal[
    "uid0_only_root",
    "gid0_only_root",
    "group_gid0_only_root",
    "shadowed_passwords",
    "no_empty_passwords",
    "passwd_groups_exist",
    "shadow_group_empty",
    "unique_uids",
    "unique_gids",
    "unique_usernames",
    "unique_groupnames",
    "system_accounts_nologin",
    "nologin_accounts_locked",
    "last_change_in_past",
    "root_path",
    "interactive_homes",
    "dot_files",
    "shadow_field",
    "nologin_not_in_shells",
    "root_umask",
    "root_locked_or_password",
]
NEEDS = {
    "group_gid0_only_root": "group",
    "unique_gids": "group",
    "unique_groupnames": "group",
    "shadow_group_empty": "group",
    "no_empty_passwords": "shadow",
    "last_change_in_past": "shadow",
    "shadow_field": "shadow",
    "nologin_accounts_locked": "shadow",
    "root_locked_or_password": "shadow",
}


class AccountsParams(Params):
    assert_: Assert = Field(alias="assert")
    field: Literal["max_days", "min_days", "warn_days", "inactive"] | None = None
    op: Op = "le"
    value: Any = None
    exempt: list[str] = Field(default_factory=list)
    today: int | None = None


Problems = list[str]


def _uid0(facts: AccountFacts, params: AccountsParams) -> Problems:
    return [
        f"{_at(facts.passwd.path, a.line)}: {shown(a.name)} has uid 0"
        for a in facts.passwd.entries
        if a.uid == 0 and a.name not in {"root", *params.exempt}
    ]


def _gid0(facts: AccountFacts, params: AccountsParams) -> Problems:
    allowed = {"root", "sync", "shutdown", "halt", "operator", *params.exempt}
    return [
        f"{_at(facts.passwd.path, a.line)}: {shown(a.name)} has primary gid 0"
        for a in facts.passwd.entries
        if a.gid == 0 and a.name not in allowed
    ]


def _group_gid0(facts: AccountFacts, params: AccountsParams) -> Problems:
    return [
        f"{_at(facts.group.path, g.line)}: group {shown(g.name)} has gid 0"
        for g in facts.group.entries
        if g.gid == 0 and g.name not in {"root", *params.exempt}
    ]


def _shadowed(facts: AccountFacts, params: AccountsParams) -> Problems:
    return [
        f"{_at(facts.passwd.path, a.line)}: {shown(a.name)} password field is {a.pw_state}, not x"
        for a in facts.passwd.entries
        if a.pw_state != "shadowed" and a.name not in params.exempt
    ]


def _empty(facts: AccountFacts, params: AccountsParams) -> Problems:
    return [
        f"{_at(facts.shadow.path, s.line)}: {shown(s.name)} has an empty password"
        for s in facts.shadow.entries
        if s.pw_state == "empty" and s.name not in params.exempt
    ]


def _groups_exist(facts: AccountFacts, params: AccountsParams) -> Problems:
    gids = {g.gid for g in facts.group.entries}
    return [
        f"{_at(facts.passwd.path, a.line)}: {shown(a.name)} has gid {a.gid}, not in /etc/group"
        for a in facts.passwd.entries
        if a.gid not in gids
    ]


def _shadow_group(facts: AccountFacts, params: AccountsParams) -> Problems:
    groups = [g for g in facts.group.entries if g.name == "shadow"]
    problems = [
        f"{_at(facts.group.path, g.line)}: group shadow has members {shown(','.join(g.members))}"
        for g in groups
        if g.members
    ]
    gids = {g.gid for g in groups}
    return problems + [
        f"{_at(facts.passwd.path, a.line)}: {shown(a.name)} has the shadow group as primary group"
        for a in facts.passwd.entries
        if a.gid in gids
    ]


def _unique(label: str, values: list[str]) -> Problems:
    return [f"duplicate {label}: {shown(value)}" for value in duplicates(values)]


def _system_nologin(facts: AccountFacts, params: AccountsParams) -> Problems:
    uid_min = facts.login_number("UID_MIN")
    allowed = {"root", "sync", "shutdown", "halt", "nfsnobody", *params.exempt}
    return [
        f"{_at(facts.passwd.path, a.line)}: system account {shown(a.name)} has login shell {shown(a.shell)}"
        for a in facts.passwd.entries
        if (a.uid < uid_min or a.uid == 65534) and a.name not in allowed and facts.valid_shell(a.shell)
    ]


def _nologin_locked(facts: AccountFacts, params: AccountsParams) -> Problems:
    problems = []
    for account in facts.passwd.entries:
        if account.name in {"root", *params.exempt} or facts.valid_shell(account.shell):
            continue
        entry = facts.shadow_of(account.name)
        if entry is not None and entry.pw_state not in ("locked",):
            problems.append(
                f"{_at(facts.shadow.path, entry.line)}: {shown(account.name)} has no login shell "
                f"but its password is not locked ({entry.pw_state})"
            )
    return problems


def _last_change(facts: AccountFacts, params: AccountsParams) -> Problems:
    today = params.today if params.today is not None else int(time.time() // 86400)
    return [
        f"{_at(facts.shadow.path, s.line)}: {shown(s.name)} last password change is in the future (day {s.last_change})"
        for s in facts.shadow.entries
        if s.last_change is not None and s.last_change > today
    ]


def _shadow_field(facts: AccountFacts, params: AccountsParams) -> Problems:
    if params.field is None:
        raise ValueError("shadow_field needs 'field'")
    problems = []
    for entry in facts.shadow.entries:
        if entry.pw_state != "hash" or entry.name in params.exempt:
            continue
        value = getattr(entry, params.field)
        if value is None or not compare(str(value), params.op, params.value):
            problems.append(
                f"{_at(facts.shadow.path, entry.line)}: {shown(entry.name)} {params.field} "
                f"{'unset' if value is None else value} (wanted {describe(params.op, params.value)})"
            )
    return problems


def _nologin_shells(facts: AccountFacts, params: AccountsParams) -> Problems:
    return [
        f"/etc/shells lists {shown(shell)}"
        for shell in sorted(facts.shells or ())
        if shell.endswith("/nologin")
    ]


def _root_locked(facts: AccountFacts, params: AccountsParams) -> Problems:
    entry = facts.shadow_of("root")
    if entry is None:
        return ["root has no entry in /etc/shadow"]
    return (
        [f"{_at(facts.shadow.path, entry.line)}: root has an empty password"]
        if entry.pw_state == "empty"
        else []
    )


def _at(path: str, line: int) -> str:
    return f"{path}:{line}"


def _path_entry(where: str, directory: str, context: Context) -> Problems:
    if directory == "" or directory == "." or not directory.startswith("/"):
        return [f"{shown(where)}: PATH has {shown(directory) or 'an empty entry'} (the working directory)"]
    entry = context.view.stat(directory)
    if entry is None or entry.kind != "dir":
        return [f"{shown(where)}: PATH entry {shown(directory)} is not a directory"]
    if entry.uid != 0:
        return [f"{shown(where)}: PATH entry {shown(directory)} is owned by uid {entry.uid}, not root"]
    if entry.mode & 0o022:
        return [
            f"{shown(where)}: PATH entry {shown(directory)} is group- or world-writable ({entry.mode:04o})"
        ]
    return []


def _root_path(facts: AccountFacts, params: AccountsParams, context: Context) -> Problems:
    problems: Problems = []
    for where, value in root_paths(context.view, facts):
        for directory in value.split(":"):
            if "$" not in directory:
                problems += _path_entry(where, directory, context)
    return problems


def umask_bits(text: str) -> int | None:
    """A umask as bits: octal (``027``) or symbolic (``u=rwx,g=rx,o=``); None when neither."""
    if text.isascii() and text.isdigit() and len(text) <= 4 and all(char in "01234567" for char in text):
        return int(text, 8)
    allowed = {"u": 0, "g": 0, "o": 0}
    for part in text.split(","):
        who, equals, perms = part.partition("=")
        if not equals or who not in allowed or any(char not in "rwx" for char in perms):
            return None
        allowed[who] = sum({"r": 4, "w": 2, "x": 1}[char] for char in set(perms))
    return 0o777 & ~(allowed["u"] << 6 | allowed["g"] << 3 | allowed["o"])


def _root_umask(facts: AccountFacts, params: AccountsParams, context: Context) -> Problems:
    wanted = umask_bits(str(params.value or "027")) or 0o027
    problems = []
    for where, value in root_umasks(context.view):
        bits = umask_bits(value)
        if bits is None or wanted & ~bits:
            problems.append(f"{shown(where)}: umask {shown(value)} (wanted {wanted:03o} or stricter)")
    return problems


def _home_problems(home: Home, limit: int) -> Problems:
    name, entry = shown(home.account.name), home.stat
    if entry is None or entry.kind != "dir":
        return [f"{name}: home {shown(home.account.home)} is missing or not a directory"]
    problems = []
    if entry.uid != home.account.uid:
        problems.append(f"{name}: home {shown(home.account.home)} owned by uid {entry.uid}")
    if entry.mode & ~limit & 0o7777:
        problems.append(
            f"{name}: home {shown(home.account.home)} mode {entry.mode:04o} (allowed at most {limit:04o})"
        )
    return problems


def _homes(facts: AccountFacts, params: AccountsParams, context: Context) -> Problems:
    limit = int(str(params.value or "0750"), 8)
    return [
        problem
        for home in interactive_homes(context)
        if home.account.name not in params.exempt
        for problem in _home_problems(home, limit)
    ]


DOT_LIMITS = {".netrc": 0o600, ".bash_history": 0o600}
FORBIDDEN_DOTFILES = frozenset({".forward", ".rhosts"})


def _dotfile_problems(home: Home) -> Problems:
    problems = []
    for entry in home.dotfiles:
        name, where = entry.path.rsplit("/", 1)[-1], shown(entry.path)
        if name in FORBIDDEN_DOTFILES:
            problems.append(f"{where}: exists (must not)")
        if entry.kind != "file":
            continue
        limit = DOT_LIMITS.get(name, 0o644)
        if entry.mode & ~limit & 0o7777:
            problems.append(f"{where}: mode {entry.mode:04o} (allowed at most {limit:04o})")
        if entry.uid != home.account.uid or entry.gid != home.account.gid:
            problems.append(
                f"{where}: owned by {entry.uid}:{entry.gid}, not {home.account.uid}:{home.account.gid}"
            )
    return problems


def _dot_files(facts: AccountFacts, params: AccountsParams, context: Context) -> Problems:
    return [
        problem
        for home in interactive_homes(context)
        if home.account.name not in params.exempt
        for problem in _dotfile_problems(home)
    ]


WITH_CONTEXT: dict[str, Callable[[AccountFacts, AccountsParams, Context], Problems]] = {
    "root_path": _root_path,
    "root_umask": _root_umask,
    "interactive_homes": _homes,
    "dot_files": _dot_files,
}


SIMPLE: dict[str, Callable[[AccountFacts, AccountsParams], Problems]] = {
    "uid0_only_root": _uid0,
    "gid0_only_root": _gid0,
    "group_gid0_only_root": _group_gid0,
    "shadowed_passwords": _shadowed,
    "no_empty_passwords": _empty,
    "passwd_groups_exist": _groups_exist,
    "shadow_group_empty": _shadow_group,
    "system_accounts_nologin": _system_nologin,
    "nologin_accounts_locked": _nologin_locked,
    "last_change_in_past": _last_change,
    "shadow_field": _shadow_field,
    "nologin_not_in_shells": _nologin_shells,
    "root_locked_or_password": _root_locked,
    "unique_uids": lambda f, p: _unique("uid", [str(a.uid) for a in f.passwd.entries]),
    "unique_gids": lambda f, p: _unique("gid", [str(g.gid) for g in f.group.entries]),
    "unique_usernames": lambda f, p: _unique("user name", [a.name for a in f.passwd.entries]),
    "unique_groupnames": lambda f, p: _unique("group name", [g.name for g in f.group.entries]),
}


def _problems(params: AccountsParams, facts: AccountFacts, context: Context) -> Problems:
    if params.assert_ in SIMPLE:
        return SIMPLE[params.assert_](facts, params)
    return WITH_CONTEXT[params.assert_](facts, params, context)


def _missing(params: AccountsParams, facts: AccountFacts) -> str | None:
    needed = NEEDS.get(params.assert_)
    if params.assert_ == "nologin_not_in_shells":
        return None if facts.shells is not None else "no /etc/shells"
    path, present = {
        "group": (facts.group.path, facts.group.present),
        "shadow": (facts.shadow.path, facts.shadow.present),
    }.get(needed or "", (facts.passwd.path, facts.passwd.present))
    return None if present else f"no {path}"


def evaluate(params: AccountsParams, context: Context) -> Outcome:
    facts = account_facts(context)
    missing = _missing(params, facts)
    if missing is not None:
        return Outcome.not_applicable(missing)
    problems = _problems(params, facts, context)
    notes = list(facts.notes()[:5])
    if problems:
        more = [f"... and {len(problems) - MAX_SHOWN} more"] if len(problems) > MAX_SHOWN else []
        return Outcome.failed(*problems[:MAX_SHOWN], *more, *notes)
    return Outcome.passed(f"{params.assert_.replace('_', ' ')}: no problem found", *notes)


CHECK = CheckType("accounts", AccountsParams, evaluate, "consistency and policy of passwd, group and shadow")
