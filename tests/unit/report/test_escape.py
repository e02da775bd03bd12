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


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"/usr/bin/ls", "/usr/bin/ls"),
        (b"/tmp/a\\x1bb", "/tmp/a\\\\x1bb"),  # a name that spells an escape cannot pass for one
        (b"/tmp/a\x1bb", "/tmp/a\\x1bb"),
        (b"/tmp/new\nline", "/tmp/new\\x0aline"),
        (b"/tmp/\xff\xfe", "/tmp/\\xff\\xfe"),
        ("/tmp/\u202eevil".encode(), "/tmp/\\u202eevil"),
        ("/tmp/ümlaut".encode(), "/tmp/ümlaut"),
    ],
)
def test_shown_bytes_is_unambiguous(raw: bytes, shown: str) -> None:
    from rampart.report.escape import shown_bytes

    assert shown_bytes(raw) == shown


def test_distinct_names_never_show_alike() -> None:
    from rampart.report.escape import shown_bytes

    names = [b"a\x1b", b"a\\x1b", b"a\xff", b"a\\xff", "a\u00ff".encode(), b"a\\\\x1b"]
    assert len({shown_bytes(n) for n in names}) == len(names)
