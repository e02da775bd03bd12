"""The stored login and how a command decides which server and token to use.

The login lives in ``$RAMPART_CONFIG``, else ``$XDG_CONFIG_HOME/rampart/client.json``, else
``~/.config/rampart/client.json``: JSON ``{server, token, ca_pem, user}``, mode 0600 in a 0700
directory, written atomically. Precedence: command-line options, then ``RAMPART_SERVER`` /
``RAMPART_TOKEN``, then the file. Tokens never appear in a repr, a message or a log.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rampart.errors import ClientError

MAX_CONFIG_BYTES = 1 << 20
FIELDS = ("server", "token", "ca_pem", "user")


def mask(token: str | None) -> str:
    """What a token looks like wherever it could be shown: its kind and nothing else."""
    if not token:
        return "None"
    return token[:4] + "***" if token.startswith(("rpt_", "rpj_")) else "***"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the stored login lives (see the module docstring)."""
    env = os.environ if env is None else env
    if env.get("RAMPART_CONFIG"):
        return Path(env["RAMPART_CONFIG"])
    xdg = env.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "rampart" / "client.json"


@dataclass(frozen=True)
class ClientConfig:
    """One stored login; every field may be missing."""

    server: str | None = None
    token: str | None = field(default=None, repr=False)
    ca_pem: str | None = field(default=None, repr=False)
    user: str | None = None

    def __repr__(self) -> str:
        ca = "set" if self.ca_pem else "None"
        return (
            f"ClientConfig(server={self.server!r}, user={self.user!r}, token={mask(self.token)}, ca_pem={ca})"
        )


@dataclass(frozen=True)
class Connection:
    """What a command talks to: the server, the bearer token, the CA it trusts and a timeout."""

    server: str
    token: str | None = field(default=None, repr=False)
    ca_pem: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def __repr__(self) -> str:
        return f"Connection(server={self.server!r}, token={mask(self.token)}, ca_pem={'set' if self.ca_pem else 'None'})"


def load_config(path: Path) -> ClientConfig:
    """The stored login, or an empty one when there is no file; refuses a file others can read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return ClientConfig()
    except OSError as error:
        raise ClientError(f"cannot read {path}: {error.strerror}") from None
    if info.st_mode & 0o077:
        raise ClientError(f"{path} is readable by other users; run: chmod 600 {path}")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ClientError(f"{path} is larger than {MAX_CONFIG_BYTES} bytes; not a rampart login file")
    return _parse(path, path.read_bytes())


def _parse(path: Path, data: bytes) -> ClientConfig:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ClientError(f"{path} is not valid JSON; delete it and run rampart login") from None
    if not isinstance(document, dict):
        raise ClientError(f"{path} must hold a JSON object; delete it and run rampart login")
    values: dict[str, str | None] = {}
    for name in FIELDS:
        value = document.get(name)
        if value is not None and not isinstance(value, str):
            raise ClientError(f"{path}: field {name!r} must be a string")
        values[name] = value
    return ClientConfig(**values)


def save_config(path: Path, config: ClientConfig) -> None:
    """Write the login atomically: a 0600 temporary file in the same directory, then rename."""
    _private_dir(path.parent)
    document = {name: getattr(config, name) for name in FIELDS}
    data = json.dumps(document, indent=2).encode("utf-8")
    descriptor, temporary = tempfile.mkstemp(prefix=".client-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _private_dir(directory: Path) -> None:
    """Create the directory 0700; tighten one that rampart owns (named ``rampart``) if it is looser."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.name == "rampart" and stat.S_IMODE(directory.stat().st_mode) != 0o700:
        directory.chmod(0o700)


def forget_token(path: Path) -> None:
    """Remove the stored token, keeping the server, CA and user for the next login."""
    config = load_config(path)
    if config.token is not None:
        save_config(path, replace(config, token=None))


def resolve(
    server: str | None,
    token: str | None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    need_token: bool = True,
) -> Connection:
    """Options beat ``RAMPART_SERVER``/``RAMPART_TOKEN``, which beat the stored login."""
    env = os.environ if env is None else env
    stored = load_config(config_path(env))
    chosen_server = server or env.get("RAMPART_SERVER") or stored.server
    if not chosen_server:
        raise ClientError("no server: run `rampart login --server URL` or set RAMPART_SERVER")
    chosen_token = token or env.get("RAMPART_TOKEN") or _stored_token(stored, chosen_server)
    if need_token and not chosen_token:
        raise ClientError("not logged in: run `rampart login` or set RAMPART_TOKEN")
    ca_pem = stored.ca_pem if _same_server(stored.server, chosen_server) else None
    return Connection(chosen_server, chosen_token, ca_pem, timeout)


def _stored_token(stored: ClientConfig, server: str) -> str | None:
    """The stored token is only ever sent to the server it was issued by."""
    return stored.token if _same_server(stored.server, server) else None


def _same_server(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.rstrip("/") == b.rstrip("/")
