"""The signed baseline file: writing it atomically, verifying it whole, then streaming its entries back.

Layout: ``RAMPART-FIM 1\\n``, one compact JSON header line, a zstd stream of entries (one compact JSON line
each, strictly increasing by `path_key`), then the trailer ``SIG <ed25519 signature hex> <key id>\\n``. The
signature covers ``rampart-fim-baseline-1\\n`` followed by the SHA-256 of every byte before the trailer, so
any edit, truncation, reordering or splice breaks it. `open_baseline` reads the file once, hashing it and
keeping a private copy of the signed bytes (in memory up to 64 MiB, else in an unlinked temporary file), and
checks the signature, the key id in trailer and header and the host before any entry can be read; entries are
then decoded from that copy, so the file cannot be swapped between verification and use.
"""

from __future__ import annotations

import hashlib
import itertools
import mmap
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson
import zstandard

from rampart import __version__
from rampart.errors import BaselineRefused, FimError
from rampart.fim.acceptance import append_acceptance as append_acceptance
from rampart.fim.acceptance import read_acceptances as read_acceptances
from rampart.fim.entrycodec import decode_entry, encode_entry
from rampart.fim.model import Entry, HashName
from rampart.fim.order import SEPARATOR, path_key
from rampart.fim.signing import KEY_ID_LENGTH, SIGNATURE_SIZE, Signer, Verifier

MAGIC = b"RAMPART-FIM 1\n"
SIGNED_CONTEXT = b"rampart-fim-baseline-1\n"
TRAILER_SIZE = len(b"SIG  \n") + 2 * SIGNATURE_SIZE + KEY_ID_LENGTH
MAX_HEADER = 4 * 1024 * 1024
MAX_LINE = 1024 * 1024
IN_MEMORY_LIMIT = 64 * 1024 * 1024
CHUNK = 1024 * 1024
BATCH = 4096
ZSTD_LEVEL = 3
_TRAILER = re.compile(rb"SIG ([0-9a-f]{128}) ([0-9a-f]{16})\n\Z")
_TEXT_FIELDS = ("created", "host", "hash", "policy", "policy_text", "key_id", "tool")
_WARNING = " — do not trust this host's files until you know why"


def default_baseline_path() -> Path:
    """``/var/lib/rampart/fim/baseline.rfim`` for root, ``~/.local/share/rampart/fim/`` for anyone else."""
    if os.geteuid() == 0:
        return Path("/var/lib/rampart/fim/baseline.rfim")
    return Path.home() / ".local" / "share" / "rampart" / "fim" / "baseline.rfim"


@dataclass(frozen=True)
class Header:
    """A baseline's header line: when, where and how it was made, and how many entries follow."""

    created: str
    host: str
    hash: HashName
    policy: str
    policy_text: str
    entries: int
    key_id: str
    tool: str

    @classmethod
    def from_json(cls, obj: object) -> Header:
        """The header in `obj` (a parsed JSON object); `ValueError` naming the first bad field."""
        if not isinstance(obj, dict):
            raise ValueError("header is not a JSON object")
        for name in _TEXT_FIELDS:
            if not isinstance(obj.get(name), str):
                raise ValueError(f"header field {name!r} is missing or not text")
        count = obj.get("entries")
        if type(count) is not int or count < 0:
            raise ValueError("header field 'entries' is missing or not a count")
        return cls(
            created=obj["created"],
            host=obj["host"],
            hash=HashName(obj["hash"]),
            policy=obj["policy"],
            policy_text=obj["policy_text"],
            entries=count,
            key_id=obj["key_id"],
            tool=obj["tool"],
        )


def new_header(
    policy_digest: str,
    policy_text: str,
    hash_name: HashName,
    *,
    host: str | None = None,
    now: Callable[[], datetime] | None = None,
) -> dict[str, object]:
    """The header fields a caller supplies to `write_baseline` (entries and key id are filled in there)."""
    created = (now or _utcnow)().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "created": created,
        "host": host if host is not None else socket.gethostname(),
        "hash": str(hash_name),
        "policy": policy_digest,
        "policy_text": policy_text,
        "tool": f"rampart {__version__}",
    }


def write_baseline(path: Path, entries: Iterable[Entry], header: Mapping[str, object], signer: Signer) -> int:
    """Write a signed baseline of `entries` (in canonical order) to `path` atomically; the entry count."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path.parent) as spool:
        count = _compress_entries(entries, spool)
        head = _header_line(header, count, signer.key_id)
        spool.seek(0)
        _assemble(path, head, spool, signer)
    return count


def _compress_entries(entries: Iterable[Entry], out: IO[bytes]) -> int:
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    batch: list[bytes] = []
    count, previous = 0, None
    for entry in entries:
        key = path_key(entry.path)
        if previous is not None and key <= previous:
            raise FimError(f"baseline entries out of order at {entry.path!r}; refusing to write")
        previous = key
        batch.append(encode_entry(entry))
        count += 1
        if len(batch) == BATCH:
            out.write(compressor.compress(b"\n".join(batch) + b"\n"))
            batch.clear()
    if batch:
        out.write(compressor.compress(b"\n".join(batch) + b"\n"))
    out.write(compressor.flush())
    return count


def _header_line(header: Mapping[str, object], count: int, key_id: str) -> bytes:
    fields = {**header, "entries": count, "key_id": key_id}
    try:
        Header.from_json(fields)
        line = orjson.dumps(fields)
    except (ValueError, TypeError) as exc:
        raise FimError(f"cannot write baseline: {exc}") from None
    if len(line) > MAX_HEADER:
        raise FimError("cannot write baseline: the header (policy text) is larger than 4 MiB")
    return MAGIC + line + b"\n"


def _assemble(path: Path, head: bytes, stream: IO[bytes], signer: Signer) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            digest = hashlib.sha256(head)
            out.write(head)
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            signature = signer.sign(SIGNED_CONTEXT + digest.digest())
            out.write(f"SIG {signature.hex()} {signer.key_id}\n".encode())
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Baseline:
    """A verified baseline: its header, its digest and a way to stream its entries (as often as needed)."""

    def __init__(
        self, path: Path, header: Header, content: bytes | mmap.mmap, start: int, digest: str
    ) -> None:
        self.path = path
        self.header = header
        self.digest = digest  # SHA-256 hex of the signed bytes: names this baseline in the acceptance log
        self._content = content
        self._start = start

    def entries(self) -> Iterator[Entry]:
        """Every entry, in canonical order; `BaselineRefused` on a malformed or out-of-order entry."""
        view = memoryview(self._content)[self._start :]
        reader = zstandard.ZstdDecompressor().stream_reader(view, read_across_frames=True)
        count, previous = 0, None
        for line in _lines(reader):
            entry = _decode(line, count)
            key = path_key(entry.path)
            if previous is not None and key <= previous:
                raise _refused(f"entry {count + 1} is out of order")
            previous = key
            count += 1
            yield entry
        if count != self.header.entries:
            raise _refused(f"it holds {count} entries, its header says {self.header.entries}")

    def lines(self) -> Iterator[tuple[bytes, bytes]]:
        """Every entry as ``(path_key, raw line)``, in canonical order, without decoding the usual line.

        The key is read off the line by `line_key`. The rest of a line is not checked here: whoever uses it
        must either find it byte for byte equal to `encode_entry` of an entry (so it is exactly what the codec
        writes) or decode it with `decode_line`. Order and count are checked as in `entries`.
        """
        previous = b""
        for index, line in enumerate(self.raw_lines()):
            key = line_key(line, index)
            if key <= previous:
                raise out_of_order(index)
            previous = key
            yield key, line

    def raw_lines(self) -> Iterator[bytes]:
        """Every entry's raw line, as stored; the count is checked at the end, the order is not: whoever uses
        them checks it (as `lines` does with `line_key`)."""
        return itertools.chain.from_iterable(self._counted())

    def _counted(self) -> Iterator[list[bytes]]:
        view = memoryview(self._content)[self._start :]
        reader = zstandard.ZstdDecompressor().stream_reader(view, read_across_frames=True)
        count = 0
        for lines in _chunks(reader):
            count += len(lines)
            yield lines
        if count != self.header.entries:
            raise _refused(f"it holds {count} entries, its header says {self.header.entries}")


def line_key(line: bytes, index: int) -> bytes:
    """The path key of a raw line (the ``index``-th): read off a line that starts ``{"p":"/...`` up to the
    next quote (a path with a quote or backslash in it is escaped there, and such a line is decoded instead,
    as is a ``p64`` one); `BaselineRefused` naming the entry if it must be decoded and is malformed."""
    end = line.find(b'"', 6)
    path = line[6:end]
    if line[:7] != b'{"p":"/' or b"\\" in path:
        path = _decode(line, index).path
    return path.replace(b"/", SEPARATOR)


def out_of_order(index: int) -> BaselineRefused:
    """The refusal of a baseline whose ``index``-th entry is not after the one before it."""
    return _refused(f"entry {index + 1} is out of order")


def decode_line(key: bytes, line: bytes) -> Entry:
    """The entry of a line from `Baseline.lines` (whose key was read off it); `BaselineRefused` if malformed."""
    try:
        entry = decode_entry(line)
    except ValueError:
        raise _refused(f"the entry of {shown_key(key)} is malformed") from None
    if path_key(entry.path) != key:
        raise _refused(f"the entry of {shown_key(key)} is malformed")
    return entry


def shown_key(key: bytes) -> str:
    """A path key as (escaped) text, for a message."""
    return repr(key.replace(SEPARATOR, b"/"))


def _lines(reader: IO[bytes]) -> Iterator[bytes]:
    for lines in _chunks(reader):
        yield from lines


def _chunks(reader: IO[bytes]) -> Iterator[list[bytes]]:
    """The lines of the decompressed stream, a list of whole lines per chunk read."""
    tail = b""
    try:
        while chunk := reader.read(CHUNK):
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            if len(tail) > MAX_LINE:
                raise _refused("an entry line is longer than 1 MiB")
            yield lines
    except zstandard.ZstdError:
        raise _refused("its entry stream is not valid zstd") from None
    if tail:
        raise _refused("its last entry line is cut short")


def _decode(line: bytes, index: int) -> Entry:
    try:
        return decode_entry(line)
    except ValueError:
        raise _refused(f"entry {index + 1} is malformed") from None


def _refused(reason: str) -> BaselineRefused:
    return BaselineRefused(f"baseline REFUSED: {reason}{_WARNING}")


def open_baseline(
    path: Path, verifier: Verifier, *, host: str | None = None, any_host: bool = False
) -> Baseline:
    """Verify the whole baseline at `path`, then return it; `BaselineRefused` (one line) on any doubt.

    The baseline must be signed by `verifier`'s key and made on `host` (default: this host's name) unless
    `any_host` (to inspect a copy from another machine).
    """
    content, digest, key = _read_verified(path, verifier)
    header, start = _parse_header(content)
    if header.key_id != key:
        raise _refused("its header names another key than its signature (a header from another baseline?)")
    expected = host if host is not None else socket.gethostname()
    if not any_host and header.host != expected:
        raise _refused(
            f"it was made on host {header.host!r}, this is {expected!r} (a baseline from elsewhere?)"
        )
    return Baseline(path, header, content, start, digest)


def _read_verified(path: Path, verifier: Verifier) -> tuple[bytes | mmap.mmap, str, str]:
    with _open_regular(path) as fh:
        size = _check_size(fh)
        signature, key = _read_trailer(fh, size)
        if key != verifier.key_id:
            raise _refused(f"it is signed by key {key}, the verify key is {verifier.key_id}")
        content, digest = _copy_signed(fh, size - TRAILER_SIZE)
    verifier.verify(SIGNED_CONTEXT + digest, signature)
    return content, digest.hex(), key


def _open_regular(path: Path) -> IO[bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise BaselineRefused(f"baseline REFUSED: cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _refused("it is not a regular file")
    return os.fdopen(fd, "rb")


def _check_size(fh: IO[bytes]) -> int:
    size = os.fstat(fh.fileno()).st_size
    _check_magic(fh.read(len(MAGIC)))
    if size < len(MAGIC) + 2 + TRAILER_SIZE:
        raise _refused("it is too short to be a baseline (truncated)")
    return size


def _check_magic(head: bytes) -> None:
    if head == MAGIC:
        return
    if head.startswith(b"RAMPART-FIM ") and head.endswith(b"\n"):
        version = head[12:-1].decode("ascii", "backslashreplace")
        raise _refused(f"format version {version!r} is not one this rampart reads")
    raise _refused("it is not a rampart fim baseline (wrong magic)")


def _read_trailer(fh: IO[bytes], size: int) -> tuple[bytes, str]:
    fh.seek(size - TRAILER_SIZE)
    match = _TRAILER.match(fh.read(TRAILER_SIZE))
    if match is None:
        raise _refused("its signature line is missing or malformed (truncated or edited)")
    return bytes.fromhex(match.group(1).decode()), match.group(2).decode()


def _copy_signed(fh: IO[bytes], length: int) -> tuple[bytes | mmap.mmap, bytes]:
    """The first `length` bytes of `fh` as a private copy, and their SHA-256."""
    fh.seek(0)
    digest = hashlib.sha256()
    if length <= IN_MEMORY_LIMIT:
        data = fh.read(length)
        _check_length(len(data), length)
        digest.update(data)
        return data, digest.digest()
    with tempfile.TemporaryFile() as spool:
        copied = 0
        while copied < length and (chunk := fh.read(min(CHUNK, length - copied))):
            digest.update(chunk)
            spool.write(chunk)
            copied += len(chunk)
        _check_length(copied, length)
        spool.flush()
        return mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ), digest.digest()


def _check_length(got: int, expected: int) -> None:
    if got != expected:
        raise _refused("it changed size while being read")


def _parse_header(content: bytes | mmap.mmap) -> tuple[Header, int]:
    start = len(MAGIC)
    end = content.find(b"\n", start, start + MAX_HEADER + 1)
    if end < 0:
        raise _refused("its header line is missing or longer than 4 MiB")
    try:
        header = Header.from_json(orjson.loads(content[start:end]))
    except ValueError as exc:
        raise _refused(f"its header is malformed ({exc})") from None
    return header, end + 1
