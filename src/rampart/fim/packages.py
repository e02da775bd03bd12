"""Package awareness for fim: which package owns a path, what it should hold, and how that explains a change.

``PackageIndex.load(root)`` reads, on first use, the package databases found under ``root`` (paths in the
index are as seen inside the root, ``/usr/bin/env``):

* dpkg: ``var/lib/dpkg/info/*.list`` (owned paths), ``*.md5sums`` (``md5  relative/path``), ``Conffiles:``
  of ``var/lib/dpkg/status`` (`` /etc/x md5 [obsolete]``) and ``var/lib/dpkg/diversions`` (a diverted
  path's file from any package but the diverter lives at the diverted-to name). An md5sums line counts
  only for a path its package's list still holds (dpkg does not edit md5sums when another package takes a
  file over). ``/bin``-style top-level symlinks of a merged ``/usr`` (``bin -> usr/bin``) are followed:
  ``/bin/cat`` is indexed as ``/usr/bin/cat``.
* rpm: ``var/lib/rpm/rpmdb.sqlite`` or ``usr/lib/sysimage/rpm/rpmdb.sqlite`` through the header parser of
  ``rampart.inventory.rpm`` (file names, digests and their algorithm, the config flag).

Every database file is read with a size cap; a missing, oversized, non-regular or malformed file (or line)
is one note in ``PackageIndex.notes``, never an exception. Memory: one dict from path (bytes) to a packed
record (4-byte package number, algorithm, flags, raw digest): about 200 bytes per path, measured 22 MB
for this machine's 118k dpkg paths (892 packages); built once, then only looked up.

``classify(change, index, root)`` looks only at the changed path; it hashes that one file (md5/sha256...,
through ``collect.digest_file``: no symlink followed, the very inode the walk saw, unchanged while read)
when its package gives a digest. Package managers' own state and logs (``MANAGER_STATE``) are always
``Cause.PACKAGE``; ``explain`` then tries ``generated.py``'s rules on what is unowned. Deliberate limits: mode, owner, group, capability, ACL, SELinux and xattr changes are never
explained by a package (dpkg's database does not record them; a setuid bit added to a packaged binary must
stay visible); a removed path no package lists any more counts as removed by its package, as the design
asks, which also explains an attacker's deletion of an unpackaged file (review such removals when no
package operation happened).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from rampart.errors import ParseError
from rampart.fim.collect import digest_file
from rampart.fim.generated import classify_generated, in_root
from rampart.fim.model import Attr, Cause, Change, ChangeKind, Entry, Kind
from rampart.inventory import rpm
from rampart.target import DirectoryTarget

MAX_INFO_SIZE = 64 * 1024 * 1024
MAX_STATUS_SIZE = 256 * 1024 * 1024
MAX_PATH = 4096
DPKG = "var/lib/dpkg"
RPMDBS = ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite")
ALGORITHMS = {1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512", 11: "sha224"}
_CODES = {name: code for code, name in ALGORITHMS.items()}
_CONFFILE, _OBSOLETE = 1, 2
_HEX = re.compile(rb"^[0-9a-f]+$")
_MD5SUMS_LINE = re.compile(rb"^([0-9a-f]{32}) [ *](.+)$", re.DOTALL)
_CONFFILE_FLAGS = (b"obsolete", b"remove-on-upgrade")
#: Package managers' own state: always explained as ``Cause.PACKAGE`` (path prefixes inside the root).
MANAGER_STATE: tuple[tuple[bytes, str], ...] = (
    (b"/var/lib/dpkg/", "dpkg's database"),
    (b"/var/lib/apt/", "apt's state and package lists"),
    (b"/var/cache/apt/", "apt's package cache"),
    (b"/var/cache/debconf/", "debconf's answers database"),
    (b"/var/log/apt/", "apt's logs"),
    (b"/var/log/dpkg.log/", "dpkg's log"),
    (b"/var/log/alternatives.log/", "update-alternatives' log"),
    (b"/var/lib/rpm/", "rpm's database"),
    (b"/usr/lib/sysimage/rpm/", "rpm's database"),
    (b"/var/lib/dnf/", "dnf's state"),
    (b"/var/cache/dnf/", "dnf's cache"),
)
#: Changes a package operation makes when it rewrites a path; what the path now is gets checked after
#: (content against the package's digest, a symlink's target against the packaged paths).
_REWRITE_ATTRS = frozenset(
    {Attr.SIZE, Attr.GROWING, Attr.MTIME, Attr.CTIME, Attr.INODE, Attr.NLINK, Attr.HASH, Attr.LINK}
)
_SECURITY_ATTRS = frozenset(
    {Attr.MODE, Attr.OWNER, Attr.GROUP, Attr.CAPS, Attr.ACL, Attr.SELINUX, Attr.XATTRS}
)


@dataclass(frozen=True, slots=True)
class Expected:
    """What a package says a path should hold: the digest (raw bytes) and its algorithm (hashlib name)."""

    package: str
    algorithm: str
    digest: bytes
    conffile: bool = False
    obsolete: bool = False


#: A per-line parser of a dpkg info file: (line, package) -> whether the line was well-formed.
_LineParser = Callable[[bytes, str], bool]


class _Skip(Exception):
    """A database file that cannot be read; its message becomes a note."""


# --- the index ------------------------------------------------------------------------------------------


class PackageIndex:
    """Path -> owning package and expected digest, for the package databases under one root (see module)."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = root
        self._files: dict[bytes, bytes] | None = None
        self._packages: list[str] = []
        self._numbers: dict[str, int] = {}
        self._notes: list[str] = []
        self._aliases: dict[bytes, bytes] = {}
        self._diversions: dict[bytes, tuple[bytes, str | None]] = {}

    @classmethod
    def load(cls, root: Path = Path("/")) -> PackageIndex:
        """An index of the databases under ``root``; they are read on the first lookup, once."""
        return cls(root)

    @property
    def notes(self) -> tuple[str, ...]:
        """One line per database file (or group of lines) that could not be used."""
        self._index()
        return tuple(self._notes)

    def __len__(self) -> int:
        return len(self._index())

    def owner(self, path: bytes) -> str | None:
        """The package that owns the in-root path (a directory: the first package listing it), or None."""
        record = self._index().get(self._canonical(path))
        return None if record is None else self._packages[int.from_bytes(record[:4], "big")]

    def expected(self, path: bytes) -> Expected | None:
        """The owning package's digest for the in-root path, or None (unowned, directory, link, no digest)."""
        record = self._index().get(self._canonical(path))
        if record is None or record[4] == 0 or len(record) <= 6:
            return None
        package = self._packages[int.from_bytes(record[:4], "big")]
        flags = record[5]
        return Expected(
            package, ALGORITHMS[record[4]], record[6:], bool(flags & _CONFFILE), bool(flags & _OBSOLETE)
        )

    def _canonical(self, path: bytes) -> bytes:
        head, slash, rest = path[1:].partition(b"/")
        alias = self._aliases.get(head)
        return path if alias is None else b"/" + alias + slash + rest

    def _index(self) -> dict[bytes, bytes]:
        if self._files is None:
            self._files = {}
            self._aliases = _top_level_aliases(self.root)
            self._load_dpkg()
            self._load_rpm()
        return self._files

    # --- building -------------------------------------------------------------------------------------

    def _number(self, package: str) -> int:
        number = self._numbers.get(package)
        if number is None:
            number = self._numbers[package] = len(self._packages)
            self._packages.append(package)
        return number

    def _own(self, path: bytes, package: str) -> None:
        """Record that ``package`` lists the path (the first lister of a shared directory keeps it)."""
        files = self._index()
        key = self._canonical(self._placed(path, package))
        files.setdefault(key, self._number(package).to_bytes(4, "big") + b"\x00\x00")

    def _digest(self, path: bytes, package: str, algorithm: int, digest: bytes, flags: int = 0) -> bool:
        """Record the digest of a path the package lists; False (ignored) when another package owns it."""
        files = self._index()
        key = self._canonical(self._placed(path, package))
        number = self._number(package).to_bytes(4, "big")
        record = files.get(key)
        if record is not None and record[:4] != number:
            return False
        files[key] = number + bytes((algorithm, flags)) + digest
        return True

    def _placed(self, path: bytes, package: str) -> bytes:
        diversion = self._diversions.get(path)
        if diversion is None or diversion[1] == package:
            return path
        return diversion[0]

    def _note(self, text: str) -> None:
        self._notes.append(text)

    # --- dpkg -----------------------------------------------------------------------------------------

    def _load_dpkg(self) -> None:
        info = self.root / DPKG / "info"
        if not info.is_dir():
            return
        self._load_diversions()
        names = sorted(entry.name for entry in info.iterdir())
        for name in names:
            if name.endswith(".list"):
                self._read_info(info / name, self._list_lines)
        for name in names:
            if name.endswith(".md5sums"):
                self._read_info(info / name, self._md5sums_lines)
        self._load_conffiles()

    def _read_info(self, path: Path, parse: _LineParser) -> None:
        package = path.name.rpartition(".")[0]
        try:
            data = read_capped(path, MAX_INFO_SIZE)
        except _Skip as exc:
            self._note(f"{path.relative_to(self.root)}: {exc}")
            return
        bad = sum(1 for line in data.split(b"\n") if line and not parse(line, package))
        if bad:
            self._note(f"{path.relative_to(self.root)}: {bad} malformed line(s) skipped")

    def _list_lines(self, line: bytes, package: str) -> bool:
        if not line.startswith(b"/") or len(line) > MAX_PATH or b"\x00" in line:
            return False
        if line != b"/.":
            self._own(line, package)
        return True

    def _md5sums_lines(self, line: bytes, package: str) -> bool:
        found = _MD5SUMS_LINE.match(line)
        if found is None or len(found[2]) > MAX_PATH or b"\x00" in found[2]:
            return False
        path = b"/" + found[2].lstrip(b"/")
        if self._owns(path, package):
            self._digest(path, package, _CODES["md5"], bytes.fromhex(found[1].decode()))
        return True

    def _owns(self, path: bytes, package: str) -> bool:
        record = self._index().get(self._canonical(self._placed(path, package)))
        return record is not None and self._packages[int.from_bytes(record[:4], "big")] == package

    def _load_diversions(self) -> None:
        path = self.root / DPKG / "diversions"
        try:
            lines = read_capped(path, MAX_INFO_SIZE).split(b"\n")
        except _Skip as exc:
            if path.exists() or path.is_symlink():
                self._note(f"{DPKG}/diversions: {exc}")
            return
        lines = lines[:-1] if lines and not lines[-1] else lines
        if len(lines) % 3:
            self._note(f"{DPKG}/diversions: {len(lines)} lines is not a whole number of diversions")
        for start in range(0, len(lines) - 2, 3):
            original, diverted, by = lines[start : start + 3]
            if original.startswith(b"/") and diverted.startswith(b"/"):
                self._diversions[original] = (diverted, None if by == b":" else by.decode("utf-8", "replace"))

    def _load_conffiles(self) -> None:
        path = self.root / DPKG / "status"
        try:
            data = read_capped(path, MAX_STATUS_SIZE)
        except _Skip as exc:
            self._note(f"{DPKG}/status: {exc}")
            return
        bad = 0
        for package, lines in _conffile_stanzas(data):
            bad += sum(1 for line in lines if not self._conffile_line(line, package))
        if bad:
            self._note(f"{DPKG}/status: {bad} malformed Conffiles line(s) skipped")

    def _conffile_line(self, line: bytes, package: str) -> bool:
        words = line.strip().split(b" ")
        flags = _CONFFILE
        while len(words) > 2 and words[-1] in _CONFFILE_FLAGS:
            flags |= _OBSOLETE if words.pop() == b"obsolete" else 0
        if len(words) < 2 or not words[0].startswith(b"/"):
            return False
        path, digest = b" ".join(words[:-1]), words[-1]
        if len(digest) == 32 and _HEX.match(digest):
            self._own(path, package)
            self._digest(path, package, _CODES["md5"], bytes.fromhex(digest.decode()), flags)
        else:  # "newconffile" and the like: owned, no digest yet
            self._own(path, package)
        return True

    # --- rpm ------------------------------------------------------------------------------------------

    def _load_rpm(self) -> None:
        found = next((name for name in RPMDBS if (self.root / name).exists()), None)
        if found is None:
            return
        try:
            with tempfile.TemporaryDirectory(prefix="rampart-fim-rpmdb-") as directory:
                copy = Path(directory) / "rpmdb.sqlite"
                rpm.copy_capped(DirectoryTarget(self.root), found, copy)
                self._read_rpmdb(copy, found)
        except (ParseError, OSError) as exc:
            self._note(f"{found}: {getattr(exc, 'message', None) or exc}")

    def _read_rpmdb(self, copy: Path, name: str) -> None:
        problems: list[str] = []
        with closing(rpm.read_database(copy)) as rows:
            for hnum, blob in rows:
                try:
                    self._rpm_header(blob)
                except ParseError as exc:
                    problems.append(f"package {hnum}: {exc.message}")
        if problems:
            self._note(f"{name}: {len(problems)} malformed header(s) skipped; first: {problems[0]}")

    def _rpm_header(self, blob: bytes | str) -> None:
        if isinstance(blob, str):
            raise ParseError(blob)
        header = rpm.read_header(blob)
        algorithm, files = rpm.header_files(blob)
        if algorithm not in ALGORITHMS:
            raise ParseError(f"unknown file digest algorithm {algorithm}")
        for file in files:
            self._own(file.path, header.name)
            digest = file.digest.encode()
            if digest and _HEX.match(digest) and len(digest) % 2 == 0:
                flags = _CONFFILE if file.flags & rpm.RPMFILE_CONFIG else 0
                self._digest(file.path, header.name, algorithm, bytes.fromhex(file.digest), flags)


def _top_level_aliases(root: Path) -> dict[bytes, bytes]:
    """``{b"bin": b"usr/bin"}`` for each top-level symlink of the root to a directory inside it."""
    aliases: dict[bytes, bytes] = {}
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        try:
            target = str((root / name).readlink())
        except OSError:
            continue
        target = target.strip("/")
        if target and ".." not in target.split("/") and (root / target).is_dir():
            aliases[name.encode()] = target.encode()
    return aliases


def _conffile_stanzas(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """(package, its Conffiles lines) for each status stanza that has any (``pkg:arch`` when Multi-Arch: same)."""
    for stanza in re.split(rb"\n[ \t]*\n", data.replace(b"\r\n", b"\n")):
        fields, conffiles = _stanza_fields(stanza)
        name = fields.get(b"package", b"").decode("utf-8", "replace")
        status = fields.get(b"status", b"").split()
        if not conffiles or not name or status[-1:] == [b"not-installed"]:
            continue
        if fields.get(b"multi-arch") == b"same" and fields.get(b"architecture"):
            name = f"{name}:{fields[b'architecture'].decode('utf-8', 'replace')}"
        yield name, conffiles


def _stanza_fields(stanza: bytes) -> tuple[dict[bytes, bytes], list[bytes]]:
    fields: dict[bytes, bytes] = {}
    conffiles: list[bytes] = []
    current = b""
    for line in stanza.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if current == b"conffiles":
                conffiles.append(line)
            continue
        key, _, value = line.partition(b":")
        current = key.strip().lower()
        fields[current] = value.strip()
    return fields, conffiles


# --- reading files safely -------------------------------------------------------------------------------

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC


def read_capped(path: Path | bytes, cap: int) -> bytes:
    """A regular file's bytes (no symlink followed); raises _Skip when missing, not regular or over ``cap``."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _Skip(exc.strerror or str(exc)) from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Skip("not a regular file")
        if st.st_size > cap:
            raise _Skip(f"larger than {cap} bytes")
        data = handle.read(st.st_size + 1)
    if len(data) > st.st_size:
        raise _Skip("grew while read")
    return data


def file_digest(entry: Entry, algorithm: str) -> bytes | None:
    """The digest of the file ``entry`` describes (``collect.digest_file``: same inode, unchanged while read)."""
    expect = (entry.dev, entry.inode, entry.size, entry.mtime_ns)
    digest, _ = digest_file(entry.path, expect, partial(hashlib.new, algorithm, usedforsecurity=False))
    return digest


# --- classification -------------------------------------------------------------------------------------


def manager_state(inside: bytes) -> str | None:
    """Why an in-root path is package-manager state (see MANAGER_STATE), or None."""
    return next((why for prefix, why in MANAGER_STATE if (inside + b"/").startswith(prefix)), None)


Verdict = tuple[Cause, str]  # a cause and the note saying why


def classify(change: Change, index: PackageIndex, root: Path = Path("/"), manager_ran: bool = True) -> Change:
    """The change with its package, cause and note from the package databases (unchanged when they say nothing).

    A removed path no package lists is put down to a package operation only when ``manager_ran`` (the
    package manager's own state changed in the same check); otherwise it stays unexplained, so deleting an
    unpackaged file (a sudoers drop-in, a cron job) is never hidden.
    """
    inside = in_root(change.path, root)
    if inside is None:
        return change
    state = manager_state(inside)
    if state is not None and not _shrunk(change):  # a package manager's log that shrank was tampered with
        return replace(change, cause=Cause.PACKAGE, note=state)
    package = index.owner(inside)
    if package is None:
        if change.kind is ChangeKind.REMOVED and manager_ran:
            return replace(change, cause=Cause.PACKAGE, note="no package lists it any more")
        return change
    cause, note = _owned_cause(change, index, inside)
    return replace(change, cause=cause, package=package, note=note)


def _shrunk(change: Change) -> bool:
    return any(attr.attr is Attr.GROWING for attr in change.attrs)


def explain_all(changes: Sequence[Change], index: PackageIndex, root: Path = Path("/")) -> tuple[Change, ...]:
    """Each change explained, knowing whether the package manager ran (its state is among the changes)."""
    ran = any(manager_state(inside) for c in changes if (inside := in_root(c.path, root)) is not None)
    return tuple(explain(change, index, root, ran) for change in changes)


def explain(change: Change, index: PackageIndex, root: Path = Path("/"), manager_ran: bool = True) -> Change:
    """Packages first, then the generated-file rules for what they leave unexplained and unowned."""
    classified = classify(change, index, root, manager_ran)
    if classified.cause is Cause.UNEXPLAINED and classified.package is None:
        return classify_generated(classified, root)
    return classified


def _owned_cause(change: Change, index: PackageIndex, inside: bytes) -> Verdict:
    expected = index.expected(inside)
    if change.kind is ChangeKind.REMOVED:
        if expected is not None and expected.conffile:
            return Cause.UNEXPLAINED, "a configuration file of its package was removed"
        return Cause.PACKAGE_MODIFIED, "its package still lists it"
    changed = {attr.attr for attr in change.attrs}
    security = sorted(str(attr) for attr in changed & _SECURITY_ATTRS)
    if security or change.after is None:
        return Cause.UNEXPLAINED, f"package databases do not record {', '.join(security)}"
    if change.kind is ChangeKind.CHANGED and Attr.TYPE not in changed and not changed <= _REWRITE_ATTRS:
        return Cause.UNEXPLAINED, "not a change a package operation makes"
    return _matches_now(change.after, inside, index, expected)


def _matches_now(after: Entry, inside: bytes, index: PackageIndex, expected: Expected | None) -> Verdict:
    if after.kind is Kind.DIR:
        return Cause.PACKAGE, "a directory its package lists"
    if after.kind is Kind.LINK:
        return _link_cause(after, inside, index, expected)
    if after.kind is not Kind.FILE or expected is None:
        return Cause.UNEXPLAINED, f"its package gives no digest for this {after.kind.name.lower()}"
    digest = file_digest(after, expected.algorithm)
    if digest == expected.digest:
        return Cause.PACKAGE, f"content matches its package's {expected.algorithm}"
    if digest is None:
        return Cause.UNEXPLAINED, "could not be read again to compare with its package"
    if expected.conffile:
        return Cause.UNEXPLAINED, "configuration file edited since its package installed it"
    return Cause.PACKAGE_MODIFIED, f"content differs from its package's {expected.algorithm}"


def _link_cause(after: Entry, inside: bytes, index: PackageIndex, expected: Expected | None) -> Verdict:
    """A package's symlink: fine when it points at a packaged path; a link where the package ships a file is not."""
    if expected is not None and not expected.conffile:
        return Cause.PACKAGE_MODIFIED, "a symlink where its package ships a regular file"
    target = None if after.link is None else link_target(inside, after.link)
    if target is not None and index.owner(target) is not None:
        return Cause.PACKAGE, "a symlink its package lists, to a packaged path"
    return Cause.UNEXPLAINED, "a symlink its package lists, to a path no package owns"


def link_target(inside: bytes, link: bytes) -> bytes | None:
    """The in-root path the symlink at ``inside`` names, resolved lexically (None when ``..`` climbs out)."""
    base = b"" if link.startswith(b"/") else inside.rpartition(b"/")[0]
    parts: list[bytes] = []
    for part in (base + b"/" + link).split(b"/"):
        if part == b"..":
            if not parts:
                return None
            parts.pop()
        elif part not in (b"", b"."):
            parts.append(part)
    return b"/" + b"/".join(parts)
