"""The environment and umask a session's process starts with, built like a login does it.

Nothing comes from the agent's own environment: HOME, USER, LOGNAME, SHELL, MAIL and PATH come from the
account and /etc/login.defs (Debian defaults when absent), TERM from the request, LANG/LC_* from
/etc/default/locale. Both files are read defensively: oversized files are ignored, bad lines skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rampart.agent.sessions.runas import LoginUser
from rampart.errors import SessionRefused

LOGIN_DEFS = Path("/etc/login.defs")
LOCALE_FILE = Path("/etc/default/locale")

# Larger files are not what the distribution ships; they are ignored rather than half read.
MAX_CONFIG_BYTES = 256 * 1024

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
DEFAULT_SUPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_MAIL_DIR = "/var/mail"
DEFAULT_UMASK = 0o022

TERM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_PATH_VALUE = re.compile(r"[^\x00-\x20\x7f]{1,4096}")
_LOCALE_KEY = re.compile(r"LANG|LANGUAGE|LC_[A-Z]{1,32}")
_LOCALE_VALUE = re.compile(r"[A-Za-z0-9_.@:+-]{1,256}")
_UMASK_VALUE = re.compile(r"0?[0-7]{1,3}")


@dataclass(frozen=True)
class LoginDefaults:
    """The parts of /etc/login.defs a session uses."""

    path: str = DEFAULT_PATH
    supath: str = DEFAULT_SUPATH
    mail_dir: str = DEFAULT_MAIL_DIR
    umask: int = DEFAULT_UMASK


def validate_term(term: str) -> str:
    """A terminal type: short, printable, no '/' and no spaces; else SessionRefused."""
    if not isinstance(term, str) or TERM_NAME.fullmatch(term) is None:
        raise SessionRefused("invalid terminal type")
    return term


def read_config(path: Path) -> str:
    """The file's text, or "" when it is missing, unreadable or larger than MAX_CONFIG_BYTES."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return ""
    if len(data) > MAX_CONFIG_BYTES:
        return ""
    return data.decode("utf-8", errors="replace")


def _settings(text: str) -> dict[str, str]:
    """``KEY VALUE`` lines of login.defs (first wins, as login does); comments and junk skipped."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and not parts[0].startswith("#"):
            found.setdefault(parts[0], parts[1].strip())
    return found


def _path_value(raw: str | None, default: str, *, prefix: str = "") -> str:
    if raw is None:
        return default
    value = raw.removeprefix(prefix) if prefix else raw
    absolute = all(entry.startswith("/") for entry in value.split(":"))
    return value if absolute and _PATH_VALUE.fullmatch(value) else default


def _umask_value(raw: str | None) -> int:
    if raw is None or _UMASK_VALUE.fullmatch(raw) is None:
        return DEFAULT_UMASK
    return int(raw, 8)


def parse_login_defs(text: str) -> LoginDefaults:
    """ENV_PATH, ENV_SUPATH (with or without ``PATH=``), MAIL_DIR and UMASK; bad values fall back."""
    found = _settings(text)
    mail_dir = _path_value(found.get("MAIL_DIR"), DEFAULT_MAIL_DIR)
    return LoginDefaults(
        path=_path_value(found.get("ENV_PATH"), DEFAULT_PATH, prefix="PATH="),
        supath=_path_value(found.get("ENV_SUPATH"), DEFAULT_SUPATH, prefix="PATH="),
        mail_dir=mail_dir if ":" not in mail_dir else DEFAULT_MAIL_DIR,
        umask=_umask_value(found.get("UMASK")),
    )


def read_login_defs(path: Path = LOGIN_DEFS) -> LoginDefaults:
    return parse_login_defs(read_config(path))


def _locale_line(line: str) -> tuple[str, str] | None:
    key, sep, value = line.strip().removeprefix("export ").partition("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    if sep and _LOCALE_KEY.fullmatch(key) and _LOCALE_VALUE.fullmatch(value):
        return key, value
    return None


def parse_locale(text: str) -> dict[str, str]:
    """LANG, LANGUAGE and LC_* from ``KEY=VALUE`` lines (quotes allowed); anything else is ignored."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        pair = _locale_line(line)
        if pair is not None:
            found[pair[0]] = pair[1]
    return found


def read_locale(path: Path = LOCALE_FILE) -> dict[str, str]:
    return parse_locale(read_config(path))


def login_environment(
    user: LoginUser,
    term: str | None,
    *,
    login_defs: Path = LOGIN_DEFS,
    locale_file: Path = LOCALE_FILE,
) -> dict[str, str]:
    """The complete environment for ``user``'s process; ``term`` is validated when given."""
    defaults = read_login_defs(login_defs)
    env = read_locale(locale_file)
    env.update(
        HOME=user.home,
        USER=user.name,
        LOGNAME=user.name,
        SHELL=user.shell,
        PATH=defaults.supath if user.uid == 0 else defaults.path,
        MAIL=f"{defaults.mail_dir.rstrip('/')}/{user.name}",
    )
    if term is not None:
        env["TERM"] = validate_term(term)
    return env
