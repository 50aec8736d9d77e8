"""A report's period ends as given by a person (CLI flag, query string): aware UTC times."""

from __future__ import annotations

from datetime import UTC, datetime


def period_end(moment: datetime | None) -> datetime | None:
    """`moment` in UTC; one without a time zone is read as UTC, as the report's days are."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_period_end(text: str | None) -> datetime | None:
    """An ISO 8601 date or date and time (`2026-01-31`, `2026-01-31T12:00+01:00`) in UTC;
    ValueError naming the text if it is neither."""
    if text is None:
        return None
    try:
        return period_end(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or time (e.g. 2026-01-31)") from None
