"""systemd unit enablement as the files say it: masked, enabled, static, disabled or not-found.

Search path, highest precedence first: ``/etc/systemd/system``, ``/run/systemd/system``,
``/usr/local/lib/systemd/system``, ``/usr/lib/systemd/system``, ``/lib/systemd/system``. A unit is
``masked`` when its first entry is a link to ``/dev/null``; ``enabled`` when a ``*.wants``/``*.requires`` link
in /etc or /run names it (or an alias of it, found through an /etc link to its file); ``static`` when only the
vendor directories want it; ``disabled`` when its file exists and nothing wants it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rampart.harden.context import Context
from rampart.harden.view import SystemView

LOCAL_DIRS = ("/etc/systemd/system", "/run/systemd/system")
VENDOR_DIRS = ("/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
SEARCH = LOCAL_DIRS + VENDOR_DIRS


@dataclass(frozen=True)
class UnitFile:
    state: str
    where: str = ""


def _first_entry(view: SystemView, unit: str) -> str | None:
    for directory in SEARCH:
        if view.stat(f"{directory}/{unit}", follow=False) is not None:
            return f"{directory}/{unit}"
    return None


def _names(view: SystemView, unit: str, first: str) -> set[str]:
    names = {unit}
    entry = view.stat(first, follow=False)
    if entry is not None and entry.kind == "link":
        names.add(entry.target.rstrip("/").rsplit("/", 1)[-1])
    return names


def _wanted(view: SystemView, directories: tuple[str, ...], names: set[str]) -> str | None:
    for directory in directories:
        for kind in ("wants", "requires"):
            for name in sorted(names):
                found = view.glob(f"{directory}/*.{kind}/{name}")
                if found:
                    return found[0]
    return None


def unit_file_state(view: SystemView, unit: str) -> UnitFile:
    first = _first_entry(view, unit)
    if first is None:
        return UnitFile("not-found")
    entry = view.stat(first, follow=False)
    if entry is not None and entry.kind == "link" and entry.target == "/dev/null":
        return UnitFile("masked", first)
    names = _names(view, unit, first)
    link = _wanted(view, LOCAL_DIRS, names)
    if link:
        return UnitFile("enabled", link)
    link = _wanted(view, VENDOR_DIRS, names)
    return UnitFile("static", link) if link else UnitFile("disabled", first)


def unit_state(context: Context, unit: str) -> UnitFile:
    """The unit's enablement from its files, once per run."""
    return context.memo(f"unit:{unit}", lambda: unit_file_state(context.view, unit))
