"""Layer decompression: igzip when isal is installed, zlib otherwise, the same bytes and caps either way."""

from __future__ import annotations

import gzip
import io
import sys
import zlib

import pytest

from rampart.image import stream
from rampart.image.stream import ImageBomb, Limits, tar_stream


def _inflate(blob: bytes, limits: Limits | None = None) -> bytes:
    out, _ = tar_stream(io.BufferedReader(io.BytesIO(blob)), limits or Limits(), [0], "layer x")  # type: ignore[arg-type]
    with out:
        return out.read()


@pytest.mark.parametrize("isal", [True, False])
def test_both_decoders_read_concatenated_members_and_keep_the_ratio_cap(
    isal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isal:
        monkeypatch.setitem(sys.modules, "isal", None)  # the import fails: zlib is used
    factory = stream._inflater_factory()
    monkeypatch.setattr(stream, "new_inflater", factory)
    assert isinstance(factory(), type(zlib.decompressobj())) is not isal
    data = bytes(range(256)) * 4000
    assert _inflate(gzip.compress(data[:1000]) + gzip.compress(data[1000:])) == data
    with pytest.raises(ImageBomb, match="decompresses more than 10:1"):
        _inflate(gzip.compress(bytes(5_000_000)), Limits(max_ratio=10))
