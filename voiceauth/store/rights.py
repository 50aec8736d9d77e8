"""Data-subject rights inside one transaction: erasure, export, retention.

Called by `VoiceprintStore`, which wraps each in its transaction and audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from voiceauth.store import audit
from voiceauth.store.records import ErasureReport
from voiceauth.store.tables import AuditRow, CustomerRow, VoiceprintRow

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
