"""The store's notion of "now": one injectable callable, never `datetime.now()` deep inside.

Consent times, audit entries and retention cut-offs are evidence (GDPR Art. 7(1): the controller
must be able to demonstrate consent), so tests must be able to fix them, and every time the store
writes is timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from voiceauth.errors import StoreError

Clock = Callable[[], datetime]
"""Returns the current time as a timezone-aware datetime."""


def system_clock() -> datetime:
    """Wall-clock time in UTC; the default `Clock`."""
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """`moment` converted to UTC; a naive datetime is refused because its zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"naive datetime {moment.isoformat()} given: the store needs aware times")
    return moment.astimezone(UTC)
