"""Call outcomes: each finished call's result, kept for the KPI report and across restarts.

An outcome holds no customer id, phone number or biometric data (data minimisation), so unlike
changes to personal data it is not audited: an audit entry per call would grow the chain with
the call volume and record nothing a data subject could ask about. Outcomes older than the
retention period go with the retention run (`rights.RightsOps.purge_unused_voiceprints`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Session

from voiceauth.errors import InvalidRecord
from voiceauth.reporting.outcome import CallOutcome
from voiceauth.store.clock import utc
from voiceauth.store.core import StoreCore
from voiceauth.store.tables import CallOutcomeRow


def _checked(outcome: CallOutcome) -> CallOutcome:
    """The outcome if every text fits its column; InvalidRecord naming the field otherwise.

    PostgreSQL would refuse an overlong value and SQLite silently keep it: check both alike.
    """
    for name in ("call_id", "transport", "dnis", "voice_state", "route", "end_reason"):
        value: str | None = getattr(outcome, name)
        column = CallOutcomeRow.__table__.c[name]
        limit = column.type.length if isinstance(column.type, String) else None
        if value is not None and limit is not None and not (0 < len(value) <= limit):
            raise InvalidRecord(f"call outcome {name}: {len(value)} characters, need 1..{limit}")
    return outcome


FIELDS = tuple(f.name for f in dataclasses.fields(CallOutcome))
"""The record's fields, each a column of the same name."""


def _row(outcome: CallOutcome) -> CallOutcomeRow:
    values = {name: getattr(outcome, name) for name in FIELDS}
    return CallOutcomeRow(**values | {"factors_verified": list(outcome.factors_verified)})


def _outcome(row: CallOutcomeRow) -> CallOutcome:
    values = {name: getattr(row, name) for name in FIELDS}
    return CallOutcome(**values | {"factors_verified": tuple(row.factors_verified)})


def delete_started_before(session: Session, cutoff: datetime) -> int:
    """Delete the outcomes of calls started before `cutoff`; returns how many."""
    result = session.execute(
        delete(CallOutcomeRow)
        .where(CallOutcomeRow.started_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class OutcomeOps(StoreCore):
    """Finished calls' outcomes; mixed into `VoiceprintStore`."""

    def record_outcome(self, outcome: CallOutcome) -> None:
        """Keep a finished call's outcome; a second record of the same call replaces the first."""
        row = _row(_checked(outcome))
        with self.transaction() as session:
            session.merge(row)

    def outcomes(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[CallOutcome]:
        """Outcomes of calls started in [since, until) (either end open), oldest first."""
        query = select(CallOutcomeRow).order_by(CallOutcomeRow.started_at, CallOutcomeRow.call_id)
        if since is not None:
            query = query.where(CallOutcomeRow.started_at >= utc(since))
        if until is not None:
            query = query.where(CallOutcomeRow.started_at < utc(until))
        with self.transaction() as session:
            return [_outcome(r) for r in session.scalars(query)]
