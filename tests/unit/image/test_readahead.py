"""Reading ahead in a thread: the same bytes in order, the inner stream's exceptions in place, a clean stop."""

from __future__ import annotations

import io
import threading
from typing import BinaryIO, cast

import pytest

from rampart.image.readahead import ReadAhead
from rampart.image.stream import ImageBomb


class _Failing(io.RawIOBase):
    """Gives ``good`` bytes, then raises ``error``."""

    def __init__(self, good: bytes, error: Exception) -> None:
        super().__init__()
        self.good, self.error = io.BytesIO(good), error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.good.read(len(buffer))
        if not data:
            raise self.error
        buffer[: len(data)] = data
        return len(data)


def test_the_bytes_come_through_whole_and_in_order() -> None:
    data = bytes(range(256)) * 5000
    with ReadAhead(cast(BinaryIO, io.BytesIO(data)), chunk=1000, depth=2) as ahead:
        got = b"".join(iter(lambda: ahead.read(777), b""))
        assert ahead.read(10) == b""
    assert got == data


def test_an_error_of_the_inner_stream_is_raised_after_the_bytes_before_it() -> None:
    ahead = ReadAhead(cast(BinaryIO, _Failing(b"x" * 2500, ImageBomb("too big"))), chunk=1000)
    assert ahead.read(2500) == b"x" * 1000
    assert ahead.read(2500) == b"x" * 1000
    assert ahead.read(2500) == b"x" * 500
    with pytest.raises(ImageBomb, match="too big"):
        ahead.read(10)
    ahead.close()


def test_closing_early_stops_the_thread_even_with_its_queue_full() -> None:
    before = threading.active_count()
    ahead = ReadAhead(cast(BinaryIO, io.BytesIO(b"z" * 1_000_000)), chunk=100, depth=2)
    assert ahead.read(50) == b"z" * 50
    ahead.close()
    assert not ahead._thread.is_alive()
    assert threading.active_count() == before
    assert ahead.closed
