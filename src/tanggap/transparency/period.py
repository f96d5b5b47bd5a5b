"""The period a report covers: [since, until), at most a year and a day wide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from tanggap.errors import InvalidInput
from tanggap.validation import bounded_time

# A calendar year (the yearly reports), leap years included.
LONGEST = timedelta(days=366)
DEFAULT_WIDTH = timedelta(days=365)


@dataclass(frozen=True)
class Period:
    """Half-open: ``since`` included, ``until`` excluded; both aware UTC."""

    since: datetime
    until: datetime


def _utc(value: datetime, field: str) -> datetime:
    # A date (or a time without a zone) is read in UTC, the zone the report is kept in.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return bounded_time(value, field)


def period(*, since: datetime | None, until: datetime | None, now: datetime) -> Period:
    """Return the period asked for: by default the 365 days to the end of today (UTC); from
    ``since`` alone, up to the end of today or a year on, whichever comes first."""
    today_ends = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    start = _utc(since, "since") if since is not None else None
    if until is not None:
        end = _utc(until, "until")
    elif start is not None:
        end = min(today_ends, start + LONGEST)
    else:
        end = today_ends
    if start is None:
        start = end - DEFAULT_WIDTH
    if start >= end:
        raise InvalidInput("since must come before until", field="since")
    if end - start > LONGEST:
        raise InvalidInput("a report covers at most 366 days", field="until")
    return Period(since=start, until=end)
