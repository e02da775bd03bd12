"""Backoff schedule: doubling windows, the cap, equal jitter bounds, bad settings refused."""

from __future__ import annotations

import pytest

from rampart.agent.backoff import Backoff
from rampart.errors import UsageError


@pytest.mark.parametrize(
    ("attempt", "window"), [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (50, 30.0), (10_000, 30.0)]
)
def test_window_doubles_up_to_the_cap(attempt: int, window: float) -> None:
    assert Backoff(base=2.0, cap=30.0).window(attempt) == window


@pytest.mark.parametrize(("rand", "delay"), [(0.0, 4.0), (0.5, 6.0), (0.999, 7.996), (5.0, 8.0), (-1.0, 4.0)])
def test_delay_is_in_the_upper_half_of_the_window(rand: float, delay: float) -> None:
    assert Backoff(base=2.0, cap=30.0).delay(3, rand) == pytest.approx(delay)


def test_attempt_zero_is_treated_as_the_first_retry() -> None:
    assert Backoff(base=1.0).window(0) == 1.0


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (-1.0, 1.0), (5.0, 1.0)])
def test_bad_settings_are_refused(base: float, cap: float) -> None:
    with pytest.raises(UsageError, match="base"):
        Backoff(base=base, cap=cap)
