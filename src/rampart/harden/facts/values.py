"""Comparing a configured value with what a rule expects: the ``op``/``value`` vocabulary shared by the
config_value, sudoers and grub checks (eq ne lt le gt ge in not_in regex; absent/present are decided by callers).
"""

from __future__ import annotations

import re
from typing import Any, Literal

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "regex", "absent", "present"]
ORDER_OPS = {"lt", "le", "gt", "ge"}
SYMBOLS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "not_in": "not in",
}


def as_number(text: Any) -> float | None:
    """``text`` as a number (ints, decimals, a leading sign), None when it is not one."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text)
    try:
        return (
            float(str(text).strip())
            if re.fullmatch(r"[+-]?\d{1,18}(\.\d{1,18})?", str(text).strip())
            else None
        )
    except ValueError:
        return None


def compare(actual: str, op: Op, expected: Any, numeric: bool | None = None) -> bool:
    """Whether ``actual`` satisfies ``op expected``; a non-number fails an ordering comparison."""
    if op == "present":
        return True
    if op == "absent":
        return False
    if op == "regex":
        return re.fullmatch(str(expected), actual) is not None
    if op in ("in", "not_in"):
        members = expected if isinstance(expected, list) else [expected]
        found = any(_equal(actual, member, numeric) for member in members)
        return found if op == "in" else not found
    if op in ("eq", "ne"):
        return _equal(actual, expected, numeric) == (op == "eq")
    return _ordered(actual, op, expected)


def _equal(actual: str, expected: Any, numeric: bool | None) -> bool:
    left, right = as_number(actual), as_number(expected)
    if numeric is not False and left is not None and right is not None:
        return left == right
    if numeric:
        return False
    return actual == _text(expected)


def _ordered(actual: str, op: str, expected: Any) -> bool:
    left, right = as_number(actual), as_number(expected)
    if left is None or right is None:
        return False
    return {"lt": left < right, "le": left <= right, "gt": left > right, "ge": left >= right}[op]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def describe(op: Op, expected: Any) -> str:
    """``op expected`` in words for evidence, e.g. ``<= 365`` or ``in [yes, true]``."""
    if op in ("absent", "present"):
        return op
    if op == "regex":
        return f"matching /{expected}/"
    if isinstance(expected, list):
        return f"{SYMBOLS[op]} [{', '.join(_text(item) for item in expected)}]"
    return f"{SYMBOLS[op]} {_text(expected)}"
