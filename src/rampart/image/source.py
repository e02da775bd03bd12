"""What an image source is (ImageSource, LayerRef, Platform), its errors, and digest-checked blob reading.

Any source (a layout directory, an archive, a registry client) hands out blobs through ``open_blob``, whose
stream hashes every byte it returns and raises DigestMismatch at the end when the bytes are not the ones the
digest names (or are more or fewer than the declared size).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from rampart.errors import ParseError, TargetError

MAX_JSON_BLOB = 4 * 1024 * 1024
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


class ImageError(TargetError):
    """The image cannot be read at all (bad manifest, no such platform, missing blob)."""


class DigestMismatch(ImageError):
    """A blob's bytes do not hash to the digest that names it."""


class LayerError(ParseError):
    """One layer could not be read to its end (truncated or malformed tar); the entries before it are kept."""


@dataclass(frozen=True)
class LayerRef:
    """One layer of an image, as its manifest lists it."""

    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Platform:
    """An ``os/arch[/variant]`` image platform."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ImageError(f"bad platform {text!r}: expected os/arch[/variant]")
        return cls(*parts)

    def matches(self, other: Platform) -> bool:
        return (self.os, self.architecture) == (other.os, other.architecture) and (
            not self.variant or self.variant == other.variant
        )

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


DEFAULT_PLATFORM = Platform("linux", "amd64")


class ImageSource(Protocol):
    """Where an image's manifest, config and layer blobs come from."""

    @property
    def name(self) -> str: ...

    def manifest(self) -> dict[str, Any]: ...

    def config(self) -> dict[str, Any]: ...

    def layers(self) -> list[LayerRef]: ...

    def open_blob(self, digest: str) -> BinaryIO:
        """The blob's bytes, checked against ``digest`` as they are read."""
        ...


def digest_hex(digest: str) -> str:
    """The hex part of a sha256 digest; ImageError for any other form."""
    match = _DIGEST.fullmatch(digest)
    if match is None:
        raise ImageError(f"unsupported or malformed digest {digest[:80]!r} (only sha256 is read)")
    return match.group(1)


class VerifyingReader(io.RawIOBase):
    """A read-only stream that hashes what it returns and checks digest and size when it reaches the end."""

    def __init__(self, raw: BinaryIO, digest: str, size: int | None = None) -> None:
        super().__init__()
        self._raw = raw
        self._want = digest_hex(digest)
        self._digest = digest
        self._size = size
        self._hash = hashlib.sha256()
        self._count = 0
        self.verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        if not data:
            self._finish()
            return 0
        self._count += len(data)
        if self._size is not None and self._count > self._size:
            raise DigestMismatch(f"blob {self._digest} is larger than its declared {self._size} bytes")
        self._hash.update(data)
        view[: len(data)] = data
        return len(data)

    def _finish(self) -> None:
        if self.verified:
            return
        if self._size is not None and self._count != self._size:
            raise DigestMismatch(
                f"blob {self._digest} holds {self._count} bytes, not the declared {self._size}"
            )
        if self._hash.hexdigest() != self._want:
            raise DigestMismatch(
                f"blob {self._digest} does not match its digest (content is sha256:"
                f"{self._hash.hexdigest()[:12]}...)"
            )
        self.verified = True

    def close(self) -> None:
        self._raw.close()
        super().close()


def verifying(raw: BinaryIO, digest: str, size: int | None = None) -> BinaryIO:
    """``raw`` wrapped so reading it checks ``digest``."""
    return io.BufferedReader(VerifyingReader(raw, digest, size), 1 << 16)


def read_json_blob(stream: BinaryIO, what: str) -> dict[str, Any]:
    """A small JSON object read whole from ``stream`` (checked at its end), or ImageError."""
    with stream:
        data = stream.read(MAX_JSON_BLOB + 1)
        if len(data) > MAX_JSON_BLOB:
            raise ImageError(f"{what} is larger than {MAX_JSON_BLOB} bytes")
        stream.read()
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ImageError(f"{what} is not a JSON object")
    return document


def drain(stream: BinaryIO) -> None:
    """Read whatever is left of ``stream``, so a verifying stream checks its digest."""
    while stream.read(1 << 20):
        pass
