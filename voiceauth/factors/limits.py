"""Attempt limits: failures counted per call, per customer and per ANI, with lockouts.

ARCHITECTURE's defaults: 3 failed attempts per call, and a lockout once a customer, or a
calling number, has failed 5 times within a day. The per-customer count stops an attacker who
calls from many numbers; the per-ANI count stops one number probing many customers; the
per-call count is the IVR's retry budget. Counters live in the database (`factor_counters`),
so every replica sees the same counts.

Counter rows are created and locked at the start of an attempt (`lock`), before the secret is
checked: on PostgreSQL `SELECT ... FOR UPDATE` holds them, on SQLite the insert takes the
database's write lock. Concurrent attempts on one customer or ANI therefore queue instead of
all reading "4 failures" and all getting a guess: a burst cannot overrun the limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from voiceauth.errors import ConfigError
from voiceauth.store.tables import FactorCounterRow

SUBJECT_LENGTH = 128


class Scope(StrEnum):
    """What a counter counts for; `voiceauth.store.rights` erases CUSTOMER and ANI rows."""

    CALL = "call"
    CUSTOMER = "customer"
    ANI = "ani"
    OTP_SEND = "otp-send"


@dataclass(frozen=True, slots=True)
class AttemptLimits:
    """per_call failures end a call's attempts; lockout_after failures within `window` lock a
    customer or an ANI for `lockout`."""

    per_call: int = 3
    lockout_after: int = 5
    window: timedelta = timedelta(days=1)
    lockout: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.per_call < 1 or self.lockout_after < 1:
            raise ConfigError("attempt limits must be at least 1")
        if self.window <= timedelta(0) or self.lockout <= timedelta(0):
            raise ConfigError("attempt window and lockout must be positive")

    def threshold(self, scope: Scope) -> int:
        return self.per_call if scope in (Scope.CALL, Scope.OTP_SEND) else self.lockout_after


@dataclass(frozen=True, slots=True)
class Subject:
    scope: Scope
    subject: str


def subjects(call_id: str, customer_id: str | None, ani: str | None) -> list[Subject]:
    """The counters an attempt touches, in lock order (sorted: no deadlock between attempts)."""
    found = [Subject(Scope.CALL, call_id)]
    if customer_id is not None:
        found.append(Subject(Scope.CUSTOMER, customer_id))
    if ani:  # a withheld number is no subject: one shared counter would lock all of them
        found.append(Subject(Scope.ANI, ani))
    return sorted((Subject(s.scope, s.subject[:SUBJECT_LENGTH]) for s in found), key=_order)


def _order(subject: Subject) -> tuple[str, str]:
    return subject.scope.value, subject.subject


def lock(session: Session, wanted: Iterable[Subject], now: datetime) -> list[FactorCounterRow]:
    """The counter rows of `wanted`, created if missing, locked for this transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    rows = []
    for s in wanted:
        session.execute(
            insert(FactorCounterRow)
            .values(
                scope=s.scope.value,
                subject=s.subject,
                window_start=now,
                failures=0,
                locked_until=None,
            )
            .on_conflict_do_nothing()
        )
        query = select(FactorCounterRow).where(
            FactorCounterRow.scope == s.scope.value, FactorCounterRow.subject == s.subject
        )
        rows.append(session.scalars(query.with_for_update()).one())
    return rows


def locked(row: FactorCounterRow, now: datetime) -> bool:
    return row.locked_until is not None and now < row.locked_until


def fail(row: FactorCounterRow, limits: AttemptLimits, now: datetime) -> bool:
    """Count one failure; True if this failure locks the subject."""
    if row.locked_until is not None and now >= row.locked_until:
        row.locked_until = None
        row.failures = 0
        row.window_start = now
    if Scope(row.scope) is not Scope.CALL and now - row.window_start >= limits.window:
        row.failures = 0
        row.window_start = now
    row.failures += 1
    if row.failures >= limits.threshold(Scope(row.scope)) and row.locked_until is None:
        row.locked_until = now + limits.lockout
        return True
    return False


def clear(row: FactorCounterRow, now: datetime) -> None:
    """Forget the failures (a success of the customer, or an admin's reset)."""
    row.failures = 0
    row.window_start = now
    row.locked_until = None
