"""Data-subject rights: erasure (GDPR Art. 17), export (Art. 15, 20), retention (Art. 5(1)(e)).

`RightsOps` (mixed into `VoiceprintStore`) runs each as one transaction with its audit entry;
the functions below do the work inside that transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from voiceauth.errors import InvalidRecord
from voiceauth.store import audit, outcomes
from voiceauth.store.clock import utc
from voiceauth.store.core import StoreCore, customer_row
from voiceauth.store.records import ErasureReport, RetentionReport
from voiceauth.store.tables import (
    AuditRow,
    CustomerRow,
    FactorCounterRow,
    KnowledgeFactorRow,
    OtpCodeRow,
    OtpDestinationRow,
    VoiceprintRow,
)

EXPORT_FORMAT = "voiceauth.customer-export/1"
EMBEDDING_WITHHELD = (
    "The voiceprint itself (a numeric template derived from your voice) is not exported. It "
    "is meaningful only to the model that made it, so it is not portable to another service "
    "(GDPR Art. 20 covers data you provided, not our model's internal derivation), and a "
    "template that leaves the system could be replayed against it or inverted towards your "
    "voice (ISO/IEC 24745 asks that biometric references stay protected). Its metadata is "
    "listed here; you may have it erased at any time."
)


def delete_voiceprints(session: Session, customer_id: str) -> int:
    """Delete the customer's voiceprints; returns how many."""
    result = session.execute(
        delete(VoiceprintRow)
        .where(VoiceprintRow.customer_id == customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _deleted(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def delete_factors(session: Session, customer: CustomerRow) -> int:
    """Delete the customer's factor secrets and attempt counters; returns how many factors.

    Knowledge-factor hashes, one-time codes and the OTP destination go (the foreign keys
    cascade too, but an erasure says so explicitly rather than trusting the backend's
    setting), and so do the failure counters kept on the customer and on their phone numbers:
    a counter keyed by a phone number is personal data of its owner.
    """
    cid = customer.id
    factors = _deleted(
        session, delete(KnowledgeFactorRow).where(KnowledgeFactorRow.customer_id == cid)
    )
    _deleted(session, delete(OtpCodeRow).where(OtpCodeRow.customer_id == cid))
    _deleted(session, delete(OtpDestinationRow).where(OtpDestinationRow.customer_id == cid))
    subjects = [("customer", cid)] + [("ani", p.e164) for p in customer.phones]
    for scope, subject in subjects:
        _deleted(
            session,
            delete(FactorCounterRow).where(
                FactorCounterRow.scope == scope, FactorCounterRow.subject == subject
            ),
        )
    return factors


def erase(session: Session, customer: CustomerRow) -> ErasureReport:
    """Delete the customer row and everything that hangs off it (GDPR Art. 17).

    Audit entries are kept: they hold the customer id and metadata only (no phone number,
    evidence text or biometric data), and Art. 17(3)(b)/(e) allow keeping what the controller
    needs to prove it complied, the erasure itself included.
    """
    report = ErasureReport(
        customer.id, len(customer.voiceprints), len(customer.consents), len(customer.phones)
    )
    session.delete(customer)
    session.flush()
    return report


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def export(session: Session, customer: CustomerRow, now: datetime) -> dict[str, Any]:
    """Everything held on the customer, JSON-able (GDPR Art. 15 and 20).

    Voiceprints are listed with their metadata; the vectors are withheld (`EMBEDDING_WITHHELD`
    says why, and is included in the export so the customer reads it too).
    """
    trail = session.scalars(
        select(AuditRow).where(AuditRow.customer_id == customer.id).order_by(AuditRow.seq)
    )
    return {
        "format": EXPORT_FORMAT,
        "generated_at": now.isoformat(),
        "customer": {
            "id": customer.id,
            "status": customer.status,
            "eid_hint": customer.eid_hint,
            "created_at": _time(customer.created_at),
        },
        "phone_numbers": [p.e164 for p in customer.phones],
        "consents": [
            {
                "id": c.id,
                "purpose": c.purpose,
                "text_version": c.text_version,
                "channel": c.channel,
                "evidence": c.evidence,
                "granted_at": _time(c.granted_at),
                "withdrawn_at": _time(c.withdrawn_at),
            }
            for c in customer.consents
        ],
        "voiceprints": [
            {
                "model": v.model,
                "net_speech_s": v.net_speech_s,
                "snr_db": v.snr_db,
                "source_call_ids": list(v.source_call_ids),
                "created_at": _time(v.created_at),
                "updated_at": _time(v.updated_at),
                "last_used_at": _time(v.last_used_at),
                "embedding": "withheld",
            }
            for v in customer.voiceprints
        ],
        "voiceprint_note": EMBEDDING_WITHHELD,
        "processing_log": [
            {
                "at": _time(e.at),
                "actor": e.actor,
                "action": e.action,
                "details": e.details,
            }
            for e in map(audit.to_entry, trail)
        ],
    }


def _last_activity() -> ColumnElement[datetime]:
    return func.coalesce(VoiceprintRow.last_used_at, VoiceprintRow.updated_at)


def expired_voiceprints(session: Session, cutoff: datetime) -> list[VoiceprintRow]:
    """Voiceprints whose last use (or, never used, last save) is before `cutoff`, locked."""
    last = _last_activity()
    return list(
        session.scalars(
            select(VoiceprintRow).where(last < cutoff).order_by(VoiceprintRow.id).with_for_update()
        )
    )


def delete_voiceprint_rows(session: Session, ids: list[int]) -> None:
    """Delete voiceprints by row id (those `expired_voiceprints` selected and locked)."""
    if ids:
        session.execute(
            delete(VoiceprintRow)
            .where(VoiceprintRow.id.in_(ids))
            .execution_options(synchronize_session="fetch")
        )


class RightsOps(StoreCore):
    """Erasure, export and retention with their audit entries; mixed into `VoiceprintStore`."""

    def erase_customer(self, customer_id: str, *, actor: str) -> ErasureReport:
        """Delete everything held on the customer (Art. 17); the audit keeps that it happened."""
        now = self.now()
        with self.transaction() as session:
            row = customer_row(session, customer_id)
            factors = delete_factors(session, row)
            report = erase(session, row)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="customer.erase",
                customer_id=customer_id,
                details={
                    "voiceprints": report.voiceprints,
                    "consents": report.consents,
                    "phones": report.phones,
                    "knowledge_factors": factors,
                },
            )
            return report

    def export_customer(self, customer_id: str, *, actor: str) -> dict[str, Any]:
        """Everything held on the customer as JSON-able data (Art. 15 access, Art. 20
        portability); voiceprints as metadata only (`EMBEDDING_WITHHELD` says why)."""
        now = self.now()
        with self.transaction() as session:
            exported = export(session, customer_row(session, customer_id), now)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="customer.export",
                customer_id=customer_id,
                details={},
            )
            return exported

    def purge_unused_voiceprints(self, *, unused_since: datetime, actor: str) -> RetentionReport:
        """Delete voiceprints not used (nor saved) since `unused_since`, and call outcomes of
        calls started before it.

        Storage limitation (Art. 5(1)(e)): a voiceprint nobody verifies against any more has
        no purpose left, nor has a call's outcome once it is older than the retention period.
        Each voiceprint deletion is audited under its customer, and the run itself once (so
        the log shows the job ran even when it found nothing).
        """
        cutoff, now = utc(unused_since), self.now()
        with self.transaction() as session:
            rows = expired_voiceprints(session, cutoff)
            expired = tuple((r.customer_id, r.model) for r in rows)
            delete_voiceprint_rows(session, [r.id for r in rows])
            outcomes_deleted = outcomes.delete_started_before(session, cutoff)
            # Audit after every row change: the audit lock is always taken last (no deadlock).
            since = cutoff.isoformat(timespec="seconds")
            for customer_id, model in expired:
                audit.append(
                    session,
                    at=now,
                    actor=actor,
                    action="voiceprint.expire",
                    customer_id=customer_id,
                    details={"model": model, "unused_since": since},
                )
            audit.append(
                session,
                at=now,
                actor=actor,
                action="retention.run",
                customer_id=None,
                details={
                    "unused_since": since,
                    "voiceprints_deleted": len(expired),
                    "call_outcomes_deleted": outcomes_deleted,
                },
            )
            return RetentionReport(cutoff, expired, outcomes_deleted)

    def run_retention(self, *, unused_days: int, actor: str) -> RetentionReport:
        """The retention job: delete voiceprints unused, and call outcomes older than,
        `unused_days` days (>= 1)."""
        if unused_days < 1:
            raise InvalidRecord(f"retention: unused_days must be >= 1, got {unused_days}")
        return self.purge_unused_voiceprints(
            unused_since=self.now() - timedelta(days=unused_days), actor=actor
        )
