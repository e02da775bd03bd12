"""The Debian security tracker's ``{DSA,DLA,DTSA}/list`` files, read independently of rampart, and
turned into the feed debsecan downloads (``<base>/<suite>``, a zlib-compressed text file).

List format (one advisory per header line, its details indented by a tab or spaces)::

    [29 Mar 2023] DSA-5380-1 xorg-server - security update
        {CVE-2023-1393}
        [bullseye] - xorg-server 2:1.20.11-1+deb11u6
        [buster] - foo <not-affected> (reason)
        NOTE: ...

debsecan feed format (``VERSION 1``, read by ``fetch_data`` in /usr/bin/debsecan), three sections
separated by an empty line:

1. vulnerability names: ``NAME,FLAGS,DESCRIPTION``;
2. one line per (package, vulnerability): ``PACKAGE,INDEX,FLAGS,FIXED_VERSION,OTHER_VERSIONS`` where
   INDEX points into section 1 and FLAGS is four characters: ``S``/``B`` (source or binary package),
   urgency (`` ``/``L``/``M``/``H``), remote (``?``/``R``/`` ``), ``F`` when a fix is available; a
   source package is vulnerable when its version is lower than FIXED_VERSION (every version when it
   is empty) and is not one of the space-separated OTHER_VERSIONS;
3. source package to binary packages (only used to call a package obsolete): left empty here.

Per suite, a vulnerability is named by its CVE ids, or by the advisory id when the advisory lists no
CVE (the same naming rampart's findings use). A (source, name) pair fixed by several advisories is
fixed at the highest of their versions (a version below any of those fixes is still affected by the
advisory that fixed it later); an ``<unfixed>``/``<end-of-life>`` entry means no fix at all, and
``<not-affected>`` entries are left out.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from debian.debian_support import Version

HEADER = re.compile(r"^\[(?P<date>[^\]]+)\]\s+(?P<id>\S+)\s+(?P<title>.*)$")
CVES = re.compile(r"^\s+\{(?P<ids>[^}]*)\}")
RELEASE = re.compile(r"^\s+\[(?P<release>[a-z-]+)\]\s+-\s+(?P<source>\S+)\s+(?P<rest>.*)$")
STATUS = re.compile(r"^<(?P<status>[a-z-]+)>")


@dataclass(frozen=True)
class Entry:
    """One ``[release] - source version|<status>`` line of one advisory."""

    advisory: str
    title: str
    release: str
    source: str
    fixed: str | None
    status: str  # fixed | unfixed | end-of-life | not-affected | ...
    cves: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.cves or (self.advisory,)


def parse_list(text: str) -> list[Entry]:
    entries: list[Entry] = []
    advisory, title, cves = "", "", ()
    pending: list[tuple[str, str, str]] = []

    def flush() -> None:
        for release, source, rest in pending:
            entries.append(_entry(advisory, title, release, source, rest, cves))
        pending.clear()

    for line in text.splitlines():
        if header := HEADER.match(line):
            flush()
            advisory, title, cves = header["id"], header["title"], ()
        elif found := CVES.match(line):
            cves = tuple(found["ids"].split())
        elif release := RELEASE.match(line):
            pending.append((release["release"], release["source"], release["rest"].strip()))
    flush()
    return entries


def _entry(advisory: str, title: str, release: str, source: str, rest: str, cves: tuple[str, ...]) -> Entry:
    status = STATUS.match(rest)
    if status:
        return Entry(advisory, title, release, source, None, status["status"], cves)
    return Entry(advisory, title, release, source, rest.split()[0], "fixed", cves)


def read_lists(tracker_dir: Path) -> list[Entry]:
    entries: list[Entry] = []
    for kind in ("DSA", "DLA", "DTSA"):
        path = tracker_dir / kind / "list"
        if path.exists():
            entries += parse_list(path.read_text(encoding="utf-8", errors="replace"))
    return entries


def affected_in(entries: list[Entry], release: str) -> dict[tuple[str, str], str | None]:
    """{(source, vulnerability name): fixed version, or None for no fix} for one release."""
    result: dict[tuple[str, str], str | None] = {}
    unfixed: set[tuple[str, str]] = set()
    for entry in entries:
        if entry.release != release or entry.status == "not-affected":
            continue
        for name in entry.names:
            key = (entry.source, name)
            if entry.fixed is None:
                unfixed.add(key)
            elif key not in result or Version(entry.fixed) > Version(result[key] or "0"):
                result[key] = entry.fixed
            result.setdefault(key, None)
    for key in unfixed:
        result[key] = None
    return result


def build_feed(entries: list[Entry], release: str) -> bytes:
    """The zlib-compressed debsecan feed for one suite."""
    titles: dict[str, str] = {}
    for entry in entries:
        if entry.release == release:
            for name in entry.names:
                titles.setdefault(name, f"{entry.advisory} {entry.title}".replace("\n", " "))
    names = sorted({name for _, name in affected_in(entries, release)})
    number = {name: i for i, name in enumerate(names)}
    lines = ["VERSION 1"]
    lines += [f"{name},,{titles.get(name, '')}" for name in names]
    lines.append("")
    by_source: dict[str, list[str]] = defaultdict(list)
    for (source, name), fixed in sorted(affected_in(entries, release).items()):
        flags = "S " + "?" + ("F" if fixed else " ")
        by_source[source].append(f"{source},{number[name]},{flags},{fixed or ''},")
    for source in sorted(by_source):
        lines += by_source[source]
    lines += ["", ""]
    return zlib.compress(("\n".join(lines) + "\n").encode("utf-8"))
