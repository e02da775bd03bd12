"""Kernel module configuration and availability: modprobe.d directives and the modules each kernel tree ships.

modprobe.d: ``/etc/modprobe.d``, ``/run/modprobe.d``, ``/usr/lib/modprobe.d``, ``/lib/modprobe.d`` (same file
name: the earlier directory wins; files in name order). Only ``install`` (the first one for a module wins, as in
kmod) and ``blacklist`` matter here. Module names treat ``-`` and ``_`` alike. Words may be separated by any run
of blanks; ``#`` starts a comment; backslash continues a line. Unknown or short directives are skipped with a note.

Availability: ``/lib/modules/<release>/modules.dep`` (or, without it, a walk of that tree for ``*.ko*``), and
``modules.builtin`` for modules compiled into the kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rampart.harden.context import Context
from rampart.harden.facts.confdirs import logical_lines, overlay
from rampart.harden.view import SystemView

DIRECTORIES = ("/etc/modprobe.d", "/run/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d")
MODULE_ROOTS = ("/lib/modules", "/usr/lib/modules")
KNOWN = frozenset({"install", "blacklist", "options", "alias", "remove", "softdep", "softdeps", "weakdep"})
MAX_WALK_ENTRIES = 200_000
_KO = re.compile(r"^(.+?)\.ko(?:\.(?:xz|gz|zst))?$")


def module_name(name: str) -> str:
    return name.strip().replace("-", "_")


@dataclass
class ModprobeConfig:
    installs: dict[str, tuple[str, str]] = field(default_factory=dict)
    blacklists: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _directive(config: ModprobeConfig, words: list[str], where: str) -> None:
    command = words[0].lower()
    if command not in KNOWN or len(words) < 2:
        config.notes.append(f"{where}: not a modprobe directive, skipped")
    elif command == "install" and len(words) >= 3:
        config.installs.setdefault(module_name(words[1]), (" ".join(words[2:]), where))
    elif command == "blacklist":
        config.blacklists.setdefault(module_name(words[1]), where)


def parse(config: ModprobeConfig, text: str, path: str) -> None:
    for number, line in logical_lines(text):
        words = line.split("#", 1)[0].split()
        if words:
            _directive(config, words, f"{path}:{number}")


def read_config(view: SystemView) -> ModprobeConfig:
    config = ModprobeConfig()
    for path in overlay(view, DIRECTORIES):
        text = view.read_text(path)
        if text is not None:
            parse(config, text, path)
    return config


def modprobe_config(context: Context) -> ModprobeConfig:
    return context.memo("modprobe", lambda: read_config(context.view))


@dataclass
class ModuleIndex:
    """Per kernel tree (``/lib/modules/<release>``): loadable module names, and built-in ones."""

    loadable: dict[str, frozenset[str]] = field(default_factory=dict)
    builtin: dict[str, frozenset[str]] = field(default_factory=dict)


def _names_in(text: str) -> frozenset[str]:
    names = set()
    for line in text.splitlines():
        path = line.split(":", 1)[0].strip()
        match = _KO.match(path.rsplit("/", 1)[-1])
        if match:
            names.add(module_name(match.group(1)))
    return frozenset(names)


def _walk_tree(view: SystemView, tree: str) -> frozenset[str]:
    names: set[str] = set()
    pending, seen = [tree], 0
    while pending and seen < MAX_WALK_ENTRIES:
        directory = pending.pop()
        for name in view.listdir(directory) or []:
            seen += 1
            path = f"{directory}/{name}"
            match = _KO.match(name)
            if match:
                names.add(module_name(match.group(1)))
            elif view.stat(path, follow=False) is not None and view.listdir(path) is not None:
                pending.append(path)
    return frozenset(names)


def _trees(view: SystemView) -> list[str]:
    trees: dict[str, str] = {}
    for root in MODULE_ROOTS:
        for release in view.listdir(root) or []:
            trees.setdefault(release, f"{root}/{release}")
    return [trees[release] for release in sorted(trees)]


def read_index(view: SystemView) -> ModuleIndex:
    index = ModuleIndex()
    for tree in _trees(view):
        dep = view.read_text(f"{tree}/modules.dep")
        index.loadable[tree] = _names_in(dep) if dep is not None else _walk_tree(view, tree)
        builtin = view.read_text(f"{tree}/modules.builtin")
        index.builtin[tree] = _names_in(builtin or "")
    return index


def module_index(context: Context) -> ModuleIndex:
    return context.memo("kernel_modules", lambda: read_index(context.view))
