"""Whether the advisory database is too old to trust quietly: the warning a scan prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rampart.model import DatabaseInfo

DEFAULT_MAX_AGE = timedelta(days=7)


def staleness_warning(
    info: DatabaseInfo, max_age: timedelta = DEFAULT_MAX_AGE, now: datetime | None = None
) -> str | None:
    """A one-line warning when the database was built more than ``max_age`` before ``now``; else None."""
    if info.built_at is None:
        return "the advisory database does not record when it was built; run `rampart db update`"
    current = now or datetime.now(UTC)
    age = current - _aware(info.built_at)
    if age <= max_age:
        return None
    built = f"{info.built_at:%Y-%m-%d}"
    return f"the advisory database is {describe_age(age)} old (built {built}); run `rampart db update`"


def describe_age(age: timedelta) -> str:
    """``3 days``, ``5 hours``, ``12 minutes``: the largest whole unit."""
    seconds = max(int(age.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
