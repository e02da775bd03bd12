"""The target's account databases: /etc/passwd, /etc/group, /etc/shadow, /etc/gshadow, /etc/login.defs, /etc/shells.

Parsed once per run (``context.memo("accounts", ...)``). Password fields are never kept: each is reduced to
its kind (``shadowed``, ``empty``, ``locked``, ``hash``), so no hash can reach evidence. Malformed lines (too
few fields, a non-numeric id) are skipped and noted as ``file:line: why``; names are kept raw and must be
shown through `shown`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from rampart.harden.context import Context
from rampart.harden.view import Stat, SystemView, ViewError

PASSWD, GROUP, SHADOW, GSHADOW = "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"
LOGIN_DEFS, SHELLS = "/etc/login.defs", "/etc/shells"
NOLOGIN_SHELLS = frozenset({"/sbin/nologin", "/usr/sbin/nologin", "/bin/false", "/usr/bin/false", ""})
LOGIN_DEFAULTS = {"UID_MIN": 1000, "UID_MAX": 60000, "SYS_UID_MIN": 100, "SYS_UID_MAX": 999, "GID_MIN": 1000}
MAX_NOTES = 50
T = TypeVar("T")


def shown(text: str, limit: int = 80) -> str:
    """Text from the target cut to ``limit`` (left as it is otherwise: reporters escape what they print)."""
    return text if len(text) <= limit else text[:limit] + "..."


def password_kind(field_text: str) -> str:
    """``empty``, ``shadowed`` (x), ``locked`` (! or * first) or ``hash``; the hash itself is never kept."""
    if field_text == "":
        return "empty"
    if field_text == "x":
        return "shadowed"
    return "locked" if field_text[0] in "!*" else "hash"


@dataclass(frozen=True)
class Account:
    name: str
    pw_state: str
    uid: int
    gid: int
    home: str
    shell: str
    line: int


@dataclass(frozen=True)
class Group:
    name: str
    pw_state: str
    gid: int
    members: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class ShadowEntry:
    """A shadow line: the password kind and the aging fields (None when empty or not a number)."""

    name: str
    pw_state: str
    last_change: int | None
    min_days: int | None
    max_days: int | None
    warn_days: int | None
    inactive: int | None
    line: int


@dataclass(frozen=True)
class Table(Generic[T]):
    """One parsed file: its entries in file order, whether it exists, and notes on skipped lines."""

    path: str
    entries: tuple[T, ...] = ()
    present: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountFacts:
    passwd: Table[Account]
    group: Table[Group]
    shadow: Table[ShadowEntry]
    gshadow: Table[Group]
    login_defs: dict[str, str] = field(default_factory=dict)
    shells: frozenset[str] | None = None

    def login_number(self, key: str) -> int:
        """A numeric login.defs setting (UID_MIN, SYS_UID_MAX, ...), its documented default when unset or garbage."""
        text = self.login_defs.get(key, "")
        return int(text) if text.isdigit() else LOGIN_DEFAULTS.get(key, 0)

    def valid_shell(self, shell: str) -> bool:
        """A shell one can log in with: listed in /etc/shells (without nologin), or any non-nologin shell without it."""
        if shell.endswith("/nologin") or shell in NOLOGIN_SHELLS:
            return False
        return self.shells is None or shell in self.shells

    def shadow_of(self, name: str) -> ShadowEntry | None:
        return next((entry for entry in self.shadow.entries if entry.name == name), None)

    def notes(self) -> tuple[str, ...]:
        return (*self.passwd.notes, *self.group.notes, *self.shadow.notes, *self.gshadow.notes)


def _number(text: str) -> int | None:
    """An id or day count: decimal digits only (a sign, spaces or a huge number are garbage)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _split(view: SystemView, path: str) -> tuple[list[tuple[int, list[str]]], bool, list[str]]:
    try:
        text = view.read_text(path)
    except ViewError as exc:
        return [], False, [shown(exc.message, 200)]
    if text is None:
        return [], False, []
    rows = [
        (number, line.split(":"))
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.startswith("#")
    ]
    return rows, True, []


def _table(view: SystemView, path: str, fields: int, build: Callable[[list[str], int], T | None]) -> Table[T]:
    rows, present, notes = _split(view, path)
    entries: list[T] = []
    for number, parts in rows:
        entry = build(parts, number) if len(parts) >= fields else None
        if entry is None:
            if len(notes) < MAX_NOTES:
                notes.append(f"{path}:{number}: malformed line skipped")
            continue
        entries.append(entry)
    return Table(path, tuple(entries), present, tuple(notes))


def _account(parts: list[str], line: int) -> Account | None:
    uid, gid = _number(parts[2]), _number(parts[3])
    if uid is None or gid is None or not parts[0]:
        return None
    return Account(parts[0], password_kind(parts[1]), uid, gid, parts[5], ":".join(parts[6:]).strip(), line)


def _group(parts: list[str], line: int) -> Group | None:
    gid = _number(parts[2])
    if gid is None or not parts[0]:
        return None
    members = tuple(name for name in parts[3].strip().split(",") if name)
    return Group(parts[0], password_kind(parts[1]), gid, members, line)


def _gshadow(parts: list[str], line: int) -> Group | None:
    members = tuple(name for name in parts[3].strip().split(",") if name)
    return Group(parts[0], password_kind(parts[1]), -1, members, line) if parts[0] else None


def _shadow(parts: list[str], line: int) -> ShadowEntry | None:
    if not parts[0]:
        return None
    last, low, high, warn, inactive = (
        _number(parts[index]) if index < len(parts) else None for index in range(2, 7)
    )
    return ShadowEntry(parts[0], password_kind(parts[1]), last, low, high, warn, inactive, line)


def _login_defs(view: SystemView) -> dict[str, str]:
    try:
        text = view.read_text(LOGIN_DEFS) or ""
    except ViewError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and not words[0].startswith("#"):
            values[words[0]] = words[1]
    return values


def _shells(view: SystemView) -> frozenset[str] | None:
    try:
        text = view.read_text(SHELLS)
    except ViewError:
        return None
    if text is None:
        return None
    return frozenset(line.strip() for line in text.splitlines() if line.strip().startswith("/"))


def read_accounts(view: SystemView) -> AccountFacts:
    return AccountFacts(
        passwd=_table(view, PASSWD, 7, _account),
        group=_table(view, GROUP, 4, _group),
        shadow=_table(view, SHADOW, 2, _shadow),
        gshadow=_table(view, GSHADOW, 4, _gshadow),
        login_defs=_login_defs(view),
        shells=_shells(view),
    )


def account_facts(context: Context) -> AccountFacts:
    """The target's accounts, parsed once per run."""
    return context.memo("accounts", lambda: read_accounts(context.view))


def duplicates(names: Sequence[str]) -> list[str]:
    """Values that occur more than once, in first-seen order."""
    seen: set[str] = set()
    repeated: list[str] = []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    return repeated


MAX_HOMES, MAX_DOTFILES = 1000, 200
ROOT_PROFILES = ("/root/.bash_profile", "/root/.bashrc", "/root/.profile")
_ASSIGN = re.compile(r"^\s*(?:export\s+)?PATH\s*=\s*(['\"]?)([^'\"\s;]*)\1\s*(?:;.*)?$")
_UMASK = re.compile(r"^\s*umask\s+(\S+)")


@dataclass(frozen=True)
class Home:
    """An interactive account's home directory (None when missing) and the dot files directly inside it."""

    account: Account
    stat: Stat | None
    dotfiles: tuple[Stat, ...] = ()
    truncated: bool = False


def _home(view: SystemView, account: Account) -> Home:
    try:
        entry = view.stat(account.home) if account.home.startswith("/") else None
        names = view.listdir(account.home) if entry is not None and entry.kind == "dir" else []
    except ViewError:
        return Home(account, None)
    dots = [name for name in names or [] if name.startswith(".") and name not in (".", "..")]
    stats = []
    for name in dots[:MAX_DOTFILES]:
        try:
            found = view.stat(account.home.rstrip("/") + "/" + name, follow=False)
        except ViewError:
            continue
        if found is not None:
            stats.append(found)
    return Home(account, entry, tuple(stats), len(dots) > MAX_DOTFILES)


def read_homes(view: SystemView, facts: AccountFacts) -> list[Home]:
    interactive = [account for account in facts.passwd.entries if facts.valid_shell(account.shell)]
    return [_home(view, account) for account in interactive[:MAX_HOMES]]


def interactive_homes(context: Context) -> list[Home]:
    """The home directories of accounts with a login shell (at most 1000), read once per run."""
    return context.memo("homes", lambda: read_homes(context.view, account_facts(context)))


def _lines(view: SystemView, path: str) -> list[tuple[int, str]]:
    try:
        text = view.read_text(path)
    except ViewError:
        return []
    return [
        (number, line)
        for number, line in enumerate((text or "").splitlines(), 1)
        if not line.lstrip().startswith("#")
    ]


def root_paths(view: SystemView, facts: AccountFacts) -> list[tuple[str, str]]:
    """(where, PATH value) for root: login.defs ENV_SUPATH (or its default), /etc/environment, root's profiles."""
    supath = facts.login_defs.get(
        "ENV_SUPATH", "PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin"
    )
    found = [(f"{LOGIN_DEFS} ENV_SUPATH", supath.removeprefix("PATH="))]
    for path in ("/etc/environment", *ROOT_PROFILES):
        for number, line in _lines(view, path):
            match = _ASSIGN.match(line)
            if match:
                found.append((f"{path}:{number}", match.group(2)))
    return found


def root_umasks(view: SystemView) -> list[tuple[str, str]]:
    """(where, umask value) of every ``umask`` command in root's shell start-up files."""
    return [
        (f"{path}:{number}", match.group(1))
        for path in ROOT_PROFILES
        for number, line in _lines(view, path)
        if (match := _UMASK.match(line))
    ]
