"""``parse_duration`` and the expiry bounds of token commands: valid, malformed, huge input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rampart.cli.jointokens import expires_in, parse_duration
from rampart.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", timedelta(hours=1)),
        ("30m", timedelta(minutes=30)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
        ("1h30m", timedelta(minutes=90)),
        (" 1H ", timedelta(hours=1)),
    ],
)
def test_valid_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "h", "1", "1x", "-1h", "1.5h", "0m", "1h-", "h1", "9" * 500 + "d", "99999999d", "1h 30m", "1e3s"],
)
def test_malformed_or_out_of_range_durations(text: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_duration(text)
    assert len(error.value.message) < 120


def test_expires_in_bounds() -> None:
    assert expires_in("1m") == 60
    assert expires_in("365d") == 31_536_000
    for text in ("59s", "366d"):
        with pytest.raises(UsageError):
            expires_in(text)
