"""Turning a layer blob into its tar stream: compression sniffed from the magic bytes, with byte and ratio caps.

gzip and plain tar are always read (gzip through ``isal``'s igzip when it is installed, two to three times
faster than zlib, else zlib); zstd when the ``zstandard`` package is installed. The decompressed
stream counts what it gives out and raises ImageBomb once it exceeds the ratio cap against the compressed
bytes read so far (past a small floor), or the image's total byte cap.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, cast

from rampart.image.readahead import ReadAhead
from rampart.image.source import ImageError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
RATIO_FLOOR = 1 << 20
CHUNK = 1 << 16


class Inflater(Protocol):
    """What a zlib-style decompressobj offers (zlib's and isal's alike)."""

    @property
    def eof(self) -> bool: ...

    @property
    def unconsumed_tail(self) -> bytes: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes: ...


def _inflater_factory() -> Callable[[], Inflater]:
    """A maker of gzip decoders: isal's igzip when importable, else zlib."""
    try:
        from isal import isal_zlib
    except ImportError:
        return lambda: cast(Inflater, zlib.decompressobj(wbits=31))
    return lambda: cast(Inflater, isal_zlib.decompressobj(wbits=31))


new_inflater = _inflater_factory()


class ImageBomb(ImageError):
    """A layer decompresses to far more than it plausibly should (compression bomb) or the image is too big."""


@dataclass(frozen=True)
class Limits:
    """Caps on what one image may make rampart read."""

    max_entries: int = 1_000_000
    max_total_bytes: int = 64 * 1024**3
    max_ratio: int = 200
    max_file_bytes: int = 64 * 1024**2
    cache_bytes: int = 256 * 1024**2


class _Counter(io.RawIOBase):
    """Counts the bytes read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.raw.read(len(view))
        self.count += len(data)
        view[: len(data)] = data
        return len(data)


class _Gunzip(io.RawIOBase):
    """A streaming gzip decoder (concatenated members allowed) that never asks for more output than it returns."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self._z = new_inflater()
        self._eof = False
        self._dry = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._eof:
            more = self._z.unconsumed_tail or self._more()  # first: at a member's end it makes a new decoder
            data = self._z.decompress(more, len(view))
            if data:
                self._dry = False
                view[: len(data)] = data
                return len(data)
        return 0

    def _more(self) -> bytes:
        if self._z.eof:
            rest = self._z.unused_data + self.raw.read(CHUNK)
            if not rest.strip(b"\0"):
                self._eof = True
                return b""
            self._z = new_inflater()
            return rest
        chunk = self.raw.read(CHUNK)
        if not chunk:
            if self._dry:  # no input left, and the decoder gave nothing more from what it holds
                raise ImageError("gzip layer ends early (truncated)")
            self._dry = True  # the decoder may still hold output it had no room for: ask once with none
        return chunk


class Guarded(io.RawIOBase):
    """Passes decompressed bytes through, enforcing the ratio cap and the image-wide byte budget."""

    def __init__(
        self, inner: BinaryIO, counter: _Counter, limits: Limits, budget: list[int], what: str
    ) -> None:
        super().__init__()
        self.inner, self.counter, self.limits, self.budget, self.what = inner, counter, limits, budget, what
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.inner.read(len(view))
        self.count += len(data)
        self.budget[0] += len(data)
        if self.count > RATIO_FLOOR and self.count > self.limits.max_ratio * max(1, self.counter.count):
            raise ImageBomb(
                f"{self.what} decompresses more than {self.limits.max_ratio}:1 (compression bomb?)"
            )
        if self.budget[0] > self.limits.max_total_bytes:
            raise ImageBomb(f"image is larger than the {self.limits.max_total_bytes}-byte cap")
        view[: len(data)] = data
        return len(data)


def _zstd(raw: BinaryIO, what: str) -> BinaryIO:
    try:
        import zstandard
    except ImportError:
        raise ImageError(f"{what} is zstd-compressed; install the 'zstandard' package to read it") from None
    return cast(BinaryIO, zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True))


def _decoder(raw: BinaryIO, what: str) -> BinaryIO:
    head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
    if head.startswith(GZIP_MAGIC):
        return io.BufferedReader(_Gunzip(raw), CHUNK)
    if head.startswith(ZSTD_MAGIC):
        return _zstd(raw, what)
    return raw


def tar_stream(blob: BinaryIO, limits: Limits, budget: list[int], what: str) -> tuple[BinaryIO, Guarded]:
    """The uncompressed tar bytes of a layer blob, guarded by ``limits`` (``budget[0]`` counts the image).

    The guard's ``count`` says how many uncompressed bytes were read so far. A thread inflates ahead of
    the reader (``readahead``): close the stream before touching ``blob`` again.
    """
    counter = _Counter(blob)
    raw = io.BufferedReader(counter, CHUNK)
    guard = Guarded(_decoder(raw, what), counter, limits, budget, what)
    return io.BufferedReader(ReadAhead(cast(BinaryIO, guard)), CHUNK), guard
