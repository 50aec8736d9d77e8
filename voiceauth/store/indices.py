"""Unsealed customer voiceprints of one model, read in bulk to build the AS-norm cohort index.

AS-norm compares each score with how both sides score against the voiceprints most like them;
in production those are the other enrolled customers' voiceprints (their purpose, biometric
verification, is the same; the claimed customer's own is excluded at search time). Voiceprints
exist only under an active consent (a withdrawal deletes them in its transaction), so reading
all of a model's rows reads only consented ones. The bulk read is one audit entry, not one per
customer: it is the service starting, not a use against any customer.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from voiceauth.embeddings.base import Embedding
from voiceauth.store import audit, sealing, validate
from voiceauth.store.service import VOICEPRINT, VoiceprintStore
from voiceauth.store.tables import VoiceprintRow


def voiceprint_embeddings(
    store: VoiceprintStore,
    model: str,
    *,
    actor: str,
    customer_ids: Collection[str] | None = None,
) -> list[tuple[str, Embedding]]:
    """(customer id, voiceprint) of every customer enrolled with `model`, by customer id;
    only those of `customer_ids` when given (a replica following enrolments elsewhere)."""
    embedder_id, version = validate.split_model(model)
    query = select(VoiceprintRow).where(VoiceprintRow.model == model)
    if customer_ids is not None:
        query = query.where(VoiceprintRow.customer_id.in_(sorted(customer_ids)))
    with store.transaction() as session:
        rows = session.scalars(query.order_by(VoiceprintRow.customer_id)).all()
        out = [
            (
                row.customer_id,
                Embedding(
                    embedder_id,
                    version,
                    sealing.unseal(
                        store.keyring,
                        row.key_id,
                        row.sealed,
                        sealing.context(VOICEPRINT, row.customer_id, model),
                        record=f"voiceprint of customer {row.customer_id!r} ({model})",
                    ),
                    row.net_speech_s,
                ),
            )
            for row in rows
        ]
        audit.append(
            session,
            at=store.now(),
            actor=actor,
            action="voiceprint.index",
            customer_id=None,
            details={"model": model, "voiceprints": len(out)},
        )
        return out
