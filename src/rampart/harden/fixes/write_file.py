"""``write_file``: make a file hold exactly ``content`` (a banner, a cron.allow); a new file gets ``mode``, an
existing one keeps its owner and mode."""

from __future__ import annotations

from pydantic import field_validator

from rampart.harden.checks.base import Params
from rampart.harden.checks.file_mode import parse_mode
from rampart.harden.fixes.base import (
    FixType,
    check_path,
    current_text,
    image_refusal,
    read_current,
    write_atomic,
)
from rampart.harden.view import SystemView

MAX_CONTENT = 1 << 20


class WriteFileParams(Params):
    path: str
    content: str
    mode: str = "0644"

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_path(value)

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        parse_mode(value)
        return value

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        if len(value) > MAX_CONTENT:
            raise ValueError("content larger than 1 MiB")
        return value


def plan(params: WriteFileParams, view: SystemView) -> list[str]:
    refusal = image_refusal(view)
    if refusal:
        return refusal
    before = current_text(view, params.path)
    if before == params.content:
        return []
    verb = "replace" if before is not None else f"create (mode {params.mode})"
    return [f"would {verb} {params.path} with {len(params.content.splitlines())} lines"]


def apply(params: WriteFileParams, root: str) -> list[str]:
    before = read_current(root, params.path)
    if before == params.content:
        return []
    write_atomic(root, params.path, params.content, parse_mode(params.mode))
    return [f"{'replaced' if before is not None else 'created'} {params.path}"]


FIX = FixType("write_file", WriteFileParams, plan, apply, "write a whole file")
