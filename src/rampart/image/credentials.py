"""Registry credentials from a docker-style ``config.json`` (``auths``), each bound to the host it names.

The file is ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``. Entries give a base64
``auth`` (``user:password``) or ``username`` and ``password``. Credential helpers are run as Docker runs
them: ``credHelpers`` names a helper per host and wins; ``credsStore`` serves hosts without an entry of
their own (``docker-credential-NAME get``, the host on stdin; see `rampart.image.helpers`). Lookup is by
exact host[:port], so a credential is only ever handed to the registry it was saved for.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rampart.image.source import ImageError

DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
DOCKER_HUB_KEY = "docker.io"
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Credential:
    """A user name and password (or identity token) for one registry host."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credential({self.username!r}, '***')"


@dataclass
class Credentials:
    """Credentials by normalised registry host, and notes about entries that were not used."""

    by_host: dict[str, Credential] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    helpers: dict[str, str] = field(default_factory=dict)
    store: str | None = None

    def for_host(self, host: str) -> Credential | None:
        """The credential saved for exactly ``host`` (Docker Hub's names count as one), if any.

        A helper that fails raises ImageError naming it; a helper that knows no credential gives None.
        """
        key = normalise_host(host)
        helper = self.helpers.get(key) or (None if key in self.by_host else self.store)
        if helper is not None:
            from rampart.image.helpers import ask_helper

            return ask_helper(helper, key)
        return self.by_host.get(key)


def normalise_host(text: str) -> str:
    """``host[:port]`` of a config key or registry name, lowercased; Docker Hub's aliases become one."""
    text = text.strip()
    host = urlsplit(text).netloc if "://" in text else text.split("/", 1)[0]
    host = host.rsplit("@", 1)[-1].lower()
    return DOCKER_HUB_KEY if host in DOCKER_HUB_HOSTS else host


def config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    directory = os.environ.get("DOCKER_CONFIG")
    return (Path(directory) if directory else Path.home() / ".docker") / "config.json"


def load_credentials(path: Path | None = None) -> Credentials:
    """The credentials of a docker-style config file; none when it does not exist."""
    path = path or config_path()
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return Credentials()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read registry credentials: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ImageError(f"{path}: registry credentials file is larger than {MAX_CONFIG_BYTES} bytes")
    return parse_config(data, str(path))


def parse_config(data: bytes, what: str) -> Credentials:
    """The credentials of a config document; malformed entries become notes, the rest are kept."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{what}: registry credentials file is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ImageError(f"{what}: registry credentials file is not a JSON object")
    found = Credentials()
    _add_helpers(found, document, what)
    auths = document.get("auths")
    for key, entry in auths.items() if isinstance(auths, dict) else ():
        _add_entry(found, str(key), entry, what)
    return found


def _add_helpers(found: Credentials, document: dict[str, Any], what: str) -> None:
    from rampart.image.helpers import valid_helper_name

    store = document.get("credsStore")
    if isinstance(store, str) and store:
        if valid_helper_name(store):
            found.store = store
        else:
            found.notes.append(f"{what}: credsStore {store[:64]!r} is not a helper name; ignored")
    helpers = document.get("credHelpers")
    for key, name in helpers.items() if isinstance(helpers, dict) else ():
        if isinstance(name, str) and valid_helper_name(name):
            found.helpers[normalise_host(str(key))] = name
        else:
            found.notes.append(
                f"{what}: credHelpers entry for {str(key)[:100]!r} is not a helper name; ignored"
            )


def _add_entry(found: Credentials, key: str, entry: Any, what: str) -> None:
    try:
        credential = _credential(entry)
    except ValueError as exc:
        found.notes.append(f"{what}: credentials for {key[:100]!r} ignored: {exc}")
        return
    if credential is not None:
        found.by_host[normalise_host(key)] = credential


def _credential(entry: Any) -> Credential | None:
    if not isinstance(entry, dict):
        raise ValueError("entry is not an object")
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        return _decode_auth(entry["auth"])
    username, password = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credential(username, password)
    return None


def _decode_auth(text: str) -> Credential:
    try:
        decoded = base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("'auth' is not base64 of user:password") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise ValueError("'auth' is not base64 of user:password")
    return Credential(username, password)
