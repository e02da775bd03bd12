"""What every fix action is (`FixType`), and the safe way fixes touch a target: paths resolved inside the root
(a link never leads out of it) and files replaced atomically, keeping the original owner and mode."""

# String paths on purpose: each is resolved by hand inside the root, component by component.
# ruff: noqa: PTH103, PTH105, PTH108, PTH114, PTH115, PTH118, PTH120

from __future__ import annotations

import contextlib
import os
import stat as statmod
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rampart.errors import RampartError
from rampart.harden.checks.base import Params
from rampart.harden.view import IMAGE, SystemView, ViewError

MAX_LINK_HOPS = 40
P = TypeVar("P", bound=Params)


class UnsafePath(RampartError):
    """A fix would write outside the target root, or through something that is not a plain file."""


@dataclass(frozen=True)
class FixType(Generic[P]):
    """One fix action: ``plan(params, view)`` says what would change; ``apply(params, root)`` changes it."""

    name: str
    params: type[P]
    plan: Callable[[P, SystemView], list[str]]
    apply: Callable[[P, str], list[str]]
    summary: str = ""


def image_refusal(view: SystemView) -> list[str]:
    """The plan line for an image target (fixes never change images), or nothing."""
    return (
        ["cannot change a container image: rebuild it with the change instead"] if view.kind == IMAGE else []
    )


def check_path(path: str) -> str:
    """An absolute target path without ``..`` or NUL (what fix parameters must name)."""
    if not path.startswith("/") or "\x00" in path or ".." in path.split("/"):
        raise ValueError(f"{path!r} is not an absolute path without '..'")
    return path


def host_path(root: str, path: str) -> str:
    """Where ``path`` of the target lives on this machine: links are followed inside ``root`` (an absolute link
    restarts at the root); a link that climbs above the root is refused."""
    root = os.path.realpath(root)
    resolved: list[str] = []
    pending = [part for part in path.split("/") if part and part != "."]
    hops = 0
    while pending:
        name = pending.pop(0)
        if name == "..":
            if not resolved:
                raise UnsafePath(f"{path}: a link leads outside the target root")
            resolved.pop()
            continue
        here = os.path.join(root, *resolved, name)
        if os.path.islink(here):
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise UnsafePath(f"{path}: too many levels of symbolic links")
            target = os.readlink(here)
            resolved = [] if target.startswith("/") else resolved
            pending = [part for part in target.split("/") if part and part != "."] + pending
            continue
        resolved.append(name)
    return os.path.join(root, *resolved)


def read_current(root: str, path: str) -> str | None:
    """The text of a regular file of the target, None when missing; anything else is refused."""
    real = host_path(root, path)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    if not statmod.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePath(f"{path}: not a regular file")
    with os.fdopen(fd, "rb") as handle:
        return handle.read(4 << 20).decode("utf-8", errors="replace")


def write_atomic(root: str, path: str, text: str, mode: int = 0o644) -> None:
    """Replace (or create) ``path`` under ``root`` with ``text``: temp file + rename, original owner and mode kept."""
    real = host_path(root, path)
    parent = os.path.dirname(real)
    _make_dirs(root, parent)
    keep = _existing(real)
    fd, temp = tempfile.mkstemp(prefix=".rampart-", dir=parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), keep.st_mode & 0o7777 if keep else mode)
            if keep:
                os.fchown(handle.fileno(), keep.st_uid, keep.st_gid)
        os.replace(temp, real)
    except BaseException:
        _discard(temp)
        raise


def _existing(real: str) -> os.stat_result | None:
    try:
        st = os.lstat(real)
    except FileNotFoundError:
        return None
    if not statmod.S_ISREG(st.st_mode):
        raise UnsafePath(f"{real}: exists and is not a regular file")
    return st


def _make_dirs(root: str, parent: str) -> None:
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(parent)]) != real_root:
        raise UnsafePath(f"{parent}: outside the target root")
    os.makedirs(parent, mode=0o755, exist_ok=True)


def _discard(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


def current_text(view: SystemView, path: str) -> str | None:
    """A file's text through the view for planning; unreadable counts as missing (apply will refuse it)."""
    try:
        return view.read_text(path)
    except ViewError:
        return None
