"""Persisted mounts: ``/etc/fstab`` entries and systemd ``.mount`` units, by mountpoint.

fstab: blank-separated fields ``device mountpoint type options [dump [pass]]``, ``\\040``-style octal escapes,
``#`` comments; a line with fewer than four fields is skipped with a note. Mount units: files (or links) in
``/etc/systemd/system`` and ``/run/systemd/system``, and vendor units (``/usr/lib``, ``/lib``) that are enabled
there through a ``*.wants``/``*.requires`` link; masked units (links to ``/dev/null``) do not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rampart.harden.context import Context
from rampart.harden.view import SystemView

FSTAB = "/etc/fstab"
LOCAL_UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system")
VENDOR_UNIT_DIRS = ("/usr/lib/systemd/system", "/lib/systemd/system")
MAX_NOTES = 5
_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class MountEntry:
    device: str
    mountpoint: str
    fstype: str
    options: tuple[str, ...]
    where: str


@dataclass
class MountConfig:
    entries: dict[str, MountEntry] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _note(config: MountConfig, text: str) -> None:
    if len(config.notes) < MAX_NOTES:
        config.notes.append(text)
    elif len(config.notes) == MAX_NOTES:
        config.notes.append("more malformed lines skipped")


def unescape(text: str) -> str:
    return _OCTAL.sub(lambda match: chr(int(match.group(1), 8)), text)


def normalize(mountpoint: str) -> str:
    return "/" + mountpoint.strip("/") if mountpoint.strip("/") else "/"


def parse_fstab(config: MountConfig, text: str) -> None:
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) < 4:
            _note(config, f"{FSTAB}:{number}: fewer than 4 fields, skipped")
            continue
        mountpoint = normalize(unescape(fields[1]))
        options = tuple(option for option in fields[3].split(",") if option)
        config.entries[mountpoint] = MountEntry(
            unescape(fields[0]), mountpoint, fields[2], options, f"{FSTAB}:{number}"
        )


def _unit_values(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Mount" and "=" in line and line[0] not in "#;":
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _unit_files(view: SystemView) -> list[str]:
    chosen: dict[str, str] = {}
    for directory in LOCAL_UNIT_DIRS:
        for path in view.glob(f"{directory}/*.mount"):
            chosen.setdefault(path.rsplit("/", 1)[1], path)
    for directory in LOCAL_UNIT_DIRS:
        for link in view.glob(f"{directory}/*.wants/*.mount") + view.glob(f"{directory}/*.requires/*.mount"):
            chosen.setdefault(link.rsplit("/", 1)[1], link)
    return [path for name, path in sorted(chosen.items()) if not _masked(view, path)]


def _masked(view: SystemView, path: str) -> bool:
    entry = view.stat(path, follow=False)
    return entry is not None and entry.kind == "link" and entry.target == "/dev/null"


def _vendor_text(view: SystemView, path: str) -> str | None:
    text = view.read_text(path)
    if text is not None:
        return text
    name = path.rsplit("/", 1)[1]
    for directory in VENDOR_UNIT_DIRS:
        text = view.read_text(f"{directory}/{name}")
        if text is not None:
            return text
    return None


def add_units(config: MountConfig, view: SystemView) -> None:
    for path in _unit_files(view):
        values = _unit_values(_vendor_text(view, path) or "")
        where = values.get("Where", "")
        if not where.startswith("/"):
            _note(config, f"{path}: no Where= in [Mount], skipped")
            continue
        options = tuple(option for option in values.get("Options", "").split(",") if option)
        mountpoint = normalize(where)
        config.entries.setdefault(
            mountpoint, MountEntry(values.get("What", ""), mountpoint, values.get("Type", ""), options, path)
        )


def read_config(view: SystemView) -> MountConfig:
    config = MountConfig()
    parse_fstab(config, view.read_text(FSTAB) or "")
    add_units(config, view)
    return config


def mount_config(context: Context) -> MountConfig:
    return context.memo("mounts", lambda: read_config(context.view))
