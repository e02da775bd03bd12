"""``chmod``: take away permission bits beyond ``mode`` (never adds any) and set owner/group, for a path or every
match of a glob inside the target. Names resolve through the target's own passwd and group files."""

# String paths on purpose: each is resolved by hand inside the root, component by component.
# ruff: noqa: PTH101

from __future__ import annotations

import os
import stat as statmod
from collections.abc import Callable

from pydantic import field_validator

from rampart.harden.checks.base import Params
from rampart.harden.checks.file_mode import parse_mode
from rampart.harden.facts.names import Names, read_names
from rampart.harden.fixes.base import FixType, UnsafePath, check_path, host_path, image_refusal
from rampart.harden.rootview import RootView
from rampart.harden.view import SystemView


class ChmodParams(Params):
    path: str
    mode: str | None = None
    owner: str | int | None = None
    group: str | int | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_path(value)

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mode(value)
        return value


def _wanted(params: ChmodParams, table: Names, mode: int, uid: int, gid: int) -> tuple[int, int, int]:
    new_mode = mode & parse_mode(params.mode) if params.mode is not None else mode
    new_uid = _id(params.owner, table.uid, uid)
    new_gid = _id(params.group, table.gid, gid)
    return new_mode, new_uid, new_gid


def _id(spec: str | int | None, resolve: Callable[[str | int], int | None], current: int) -> int:
    if spec is None:
        return current
    found = resolve(spec)
    if found is None:
        raise UnsafePath(f"{spec!r}: no such user or group on the target")
    return found


def _changes(path: str, before: tuple[int, int, int], after: tuple[int, int, int]) -> list[str]:
    found = []
    if before[0] != after[0]:
        found.append(f"{path}: mode {before[0]:04o} -> {after[0]:04o}")
    if before[1:] != after[1:]:
        found.append(f"{path}: owner {before[1]}:{before[2]} -> {after[1]}:{after[2]}")
    return found


def plan(params: ChmodParams, view: SystemView) -> list[str]:
    refusal = image_refusal(view)
    if refusal:
        return refusal
    table = read_names(view)
    lines = []
    for path in view.glob(params.path):
        entry = view.stat(path)
        if entry is not None and entry.uid is not None and entry.gid is not None:
            before = (entry.mode, entry.uid, entry.gid)
            lines += [
                f"would change {line}" for line in _changes(path, before, _wanted(params, table, *before))
            ]
    return lines


def apply(params: ChmodParams, root: str) -> list[str]:
    view = RootView(root)
    table = read_names(view)
    done = []
    for path in view.glob(params.path):
        real = host_path(root, path)
        st = os.lstat(real)
        if statmod.S_ISLNK(st.st_mode):
            raise UnsafePath(f"{path}: a link")
        before = (statmod.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
        after = _wanted(params, table, *before)
        if before[1:] != after[1:]:
            os.chown(real, after[1], after[2], follow_symlinks=False)
        if before[0] != after[0] or before[1:] != after[1:]:
            os.chmod(real, after[0], follow_symlinks=False)
        done += _changes(path, before, after)
    return done


FIX = FixType("chmod", ChmodParams, plan, apply, "remove permission bits beyond a mode; set owner and group")
