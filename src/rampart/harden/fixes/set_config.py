"""``set_config``: set ``key`` to ``value`` in a key/value file: every active line for the key is replaced (the
first keeps its place; later ones are commented out) or, when there is none, a line is appended (inside
``section`` for INI files, adding the section when absent)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from rampart.harden.checks.base import Params
from rampart.harden.fixes.base import (
    FixType,
    check_path,
    current_text,
    image_refusal,
    read_current,
    write_atomic,
)
from rampart.harden.view import SystemView

_SECTION = re.compile(r"^\s*\[([^\]]*)\]\s*$")


class SetConfigParams(Params):
    path: str
    key: str
    value: str | int
    separator: Literal["=", "whitespace", ":", " = "] = "="
    section: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_path(value)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.$/-]{1,128}", value):
            raise ValueError(f"{value!r} is not a plain configuration key")
        return value


def render(key: str, value: str | int, separator: str) -> str:
    joiner = {"whitespace": " ", ":": ": "}.get(separator, separator)
    text = f"{key}{joiner}{value}"
    if "\n" in text or "\r" in text:
        raise ValueError("a configuration value cannot span lines")
    return text


def _is_key(line: str, key: str, separator: str) -> bool:
    stripped = line.strip()
    if stripped.startswith(("#", ";")) or not stripped:
        return False
    if separator == "whitespace":
        return stripped.split(None, 1)[0] == key
    return stripped.partition(separator.strip())[0].strip() == key


def set_line(text: str, key: str, wanted: str, separator: str, section: str | None = None) -> str:
    """``text`` with the key set to the ``wanted`` line (see the module docstring)."""
    lines = text.splitlines()
    current, replaced, section_end = None, False, None
    for index, line in enumerate(lines):
        header = _SECTION.match(line)
        if header:
            current = header.group(1).strip()
            continue
        if section is not None and current == section:
            section_end = index + 1
        if (section is None or current == section) and _is_key(line, key, separator):
            lines[index] = f"# {line}  # replaced by rampart" if replaced else wanted
            replaced = True
    if not replaced:
        _append(lines, wanted, section, section_end)
    return "\n".join(lines) + "\n"


def _append(lines: list[str], wanted: str, section: str | None, section_end: int | None) -> None:
    if section is None:
        lines.append(wanted)
    elif section_end is not None:
        lines.insert(section_end, wanted)
    elif any(_SECTION.match(line) and line.strip() == f"[{section}]" for line in lines):
        lines.insert(next(i for i, line in enumerate(lines) if line.strip() == f"[{section}]") + 1, wanted)
    else:
        lines.extend([f"[{section}]", wanted])


def plan(params: SetConfigParams, view: SystemView) -> list[str]:
    refusal = image_refusal(view)
    if refusal:
        return refusal
    wanted = render(params.key, params.value, params.separator)
    before = current_text(view, params.path)
    if (
        before is not None
        and set_line(before, params.key, wanted, params.separator, params.section) == before
    ):
        return []
    where = f" in [{params.section}]" if params.section else ""
    return [f"would set '{wanted}'{where} in {params.path}" + ("" if before is not None else " (new file)")]


def apply(params: SetConfigParams, root: str) -> list[str]:
    wanted = render(params.key, params.value, params.separator)
    before = read_current(root, params.path)
    after = set_line(before or "", params.key, wanted, params.separator, params.section)
    if after == before:
        return []
    write_atomic(root, params.path, after)
    return [f"set '{wanted}' in {params.path}"]


FIX = FixType("set_config", SetConfigParams, plan, apply, "set a key in a key/value configuration file")
