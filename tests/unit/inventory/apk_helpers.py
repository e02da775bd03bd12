"""A builder of apk installed-database stanzas, written from the format for tests."""

from __future__ import annotations


def stanza(
    name: str,
    version: str,
    *,
    arch: str = "x86_64",
    license: str = "MIT",
    origin: str | None = None,
    files: tuple[str, ...] = ("usr/lib",),
) -> str:
    """One package's stanza as apk writes it (checksum, fields, then its directories and files)."""
    lines = [f"C:Q1{name[:8]:=<26}=", f"P:{name}", f"V:{version}", f"A:{arch}", "S:1234", "I:5678"]
    lines += [f"T:the {name} package", "U:https://example.org/", f"L:{license}"]
    lines += [f"o:{origin or name}"] if origin != "" else []
    lines += ["m:Someone <someone@example.org>", "t:1700000000", "c:0123456789abcdef"]
    for path in files:
        lines += [f"F:{path}", "R:file", "a:0:0:755", "Z:Q1abcdefabcdefabcdefabcdef="]
    return "\n".join(lines) + "\n"


def database(*stanzas: str) -> str:
    """An installed-database text: stanzas separated by one blank line, ending with one."""
    return "\n".join(stanzas) + "\n"
