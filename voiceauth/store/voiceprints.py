"""Customer voiceprints: sealed on save, unsealed only for a verification, every use audited.

Both directions check consent inside the transaction (GDPR Art. 9(2)(a)); a save also locks
the active consent row (PostgreSQL) so that a concurrent withdrawal waits for it and then
deletes what it wrote, and two first saves of one customer run one after the other, the second
replacing the first (SQLite serialises writers at BEGIN IMMEDIATE): never two rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from voiceauth.embeddings.base import Embedding
from voiceauth.errors import NoConsent
from voiceauth.store import audit, convert, sealing, validate
from voiceauth.store.core import VOICEPRINT, StoreCore, active_consent, customer_row, voiceprint_row
from voiceauth.store.records import VOICE_BIOMETRICS, VoiceprintInfo
from voiceauth.store.tables import VoiceprintRow


class VoiceprintOps(StoreCore):
    """Save, load and list voiceprints; mixed into `VoiceprintStore`."""

    def save_voiceprint(
        self,
        customer_id: str,
        embedding: Embedding,
        *,
        actor: str,
        source_call_ids: Sequence[str] = (),
        snr_db: float | None = None,
    ) -> VoiceprintInfo:
        """Seal and store the customer's voiceprint for the embedding's model (replacing any).

        Refused with NoConsent unless a consent is active when the transaction commits.
        """
        model = validate.embedding(embedding)
        now = self.now()
        kid, sealed = sealing.seal(
            self.keyring, embedding.vector, sealing.context(VOICEPRINT, customer_id, model)
        )
        with self.transaction() as session:
            customer_row(session, customer_id)
            if active_consent(session, customer_id, VOICE_BIOMETRICS, lock=True) is None:
                raise NoConsent(customer_id, VOICE_BIOMETRICS)
            row = voiceprint_row(session, customer_id, model)
            replaced = row is not None
            if row is None:
                row = VoiceprintRow(customer_id=customer_id, model=model, created_at=now)
                session.add(row)
            row.sealed, row.key_id = sealed, kid
            row.net_speech_s, row.snr_db = float(embedding.net_speech_s), snr_db
            row.source_call_ids = list(source_call_ids)
            row.updated_at, row.last_used_at = now, None
            audit.append(
                session,
                at=now,
                actor=actor,
                action="voiceprint.save",
                customer_id=customer_id,
                details={
                    "model": model,
                    "replaced": replaced,
                    "key_id": kid,
                    "net_speech_s": round(float(embedding.net_speech_s), 3),
                    "source_calls": len(source_call_ids),
                },
            )
            session.flush()
            return convert.voiceprint(row)

    def load_voiceprint(
        self, customer_id: str, model: str, *, actor: str, call_id: str | None = None
    ) -> Embedding | None:
        """The unsealed voiceprint for verification, or None if the customer is not enrolled.

        Marks it used (`last_used_at`, which the retention job reads) and audits the access:
        every use of biometric data is accounted for.
        """
        embedder_id, version = validate.split_model(model)
        now = self.now()
        with self.transaction() as session:
            customer_row(session, customer_id)
            if active_consent(session, customer_id, VOICE_BIOMETRICS) is None:
                raise NoConsent(customer_id, VOICE_BIOMETRICS)
            row = voiceprint_row(session, customer_id, model)
            if row is None:
                return None
            vector = sealing.unseal(
                self.keyring,
                row.key_id,
                row.sealed,
                sealing.context(VOICEPRINT, customer_id, model),
                record=f"voiceprint of customer {customer_id!r} ({model})",
            )
            row.last_used_at = now
            audit.append(
                session,
                at=now,
                actor=actor,
                action="voiceprint.use",
                customer_id=customer_id,
                details={"model": model, "call_id": call_id},
            )
            return Embedding(embedder_id, version, vector, row.net_speech_s)

    def voiceprints(self, customer_id: str) -> list[VoiceprintInfo]:
        """Metadata of the customer's voiceprints, one per model."""
        with self.transaction() as session:
            return [convert.voiceprint(v) for v in customer_row(session, customer_id).voiceprints]
