"""Text from a target can never act on the terminal that shows it."""

from __future__ import annotations

import pytest

from rampart.report.escape import safe_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain-name 1.0+b1", "plain-name 1.0+b1"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("line\nforged", "line\\x0aforged"),
        ("cr\rover", "cr\\x0dover"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("isolate\u2066x\u2069", "isolate\\u2066x\\u2069"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("sep\u2028x", "sep\\u2028x"),
        ("ümlaut ok", "ümlaut ok"),
    ],
)
def test_safe_text(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown
