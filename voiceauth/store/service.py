"""`VoiceprintStore`: customers, consent, voiceprints, rights, watchlist and audit in one API.

Every public operation is one database transaction that also appends its audit entry, so the
change and its record commit together or not at all (a killed process leaves neither). Callers
name themselves (`actor`, e.g. "agent:4711", "system:retention") on each change: the audit log
must say who acted (GDPR Art. 5(2), Art. 30).

Consent gates processing: without an active consent for "voice_biometrics" no voiceprint is
saved or loaded (GDPR Art. 9(2)(a): explicit consent is the lawful basis for biometric data used
to identify a person), and withdrawing consent deletes the voiceprints in the same transaction
(Art. 7(3), Art. 17(1)(b)).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from voiceauth.embeddings.base import Embedding
from voiceauth.errors import DuplicateRecord, NoConsent, UnknownCustomer
from voiceauth.store import audit, convert, rights, sealing, validate, watchlist
from voiceauth.store.clock import Clock, system_clock, utc
from voiceauth.store.engine import make_engine
from voiceauth.store.keyring import Keyring
from voiceauth.store.records import (
    VOICE_BIOMETRICS,
    AuditEntry,
    ChainHead,
    Consent,
    ConsentChannel,
    Customer,
    CustomerStatus,
    ErasureReport,
    VoiceprintInfo,
    WatchlistEntry,
)
from voiceauth.store.tables import AuditRow, ConsentRow, CustomerRow, PhoneRow, VoiceprintRow

VOICEPRINT = "voiceprint"
"""Associated-data kind of customer voiceprints (see `sealing.context`)."""


class VoiceprintStore:
    """The consent and voiceprint store over one database (SQLite file or PostgreSQL).

    The schema must exist (`voiceauth.store.schema.upgrade`). `keyring` seals new voiceprints
    under its active key and opens older ones under the key they name; `clock` gives every
    time the store records.
    """

    def __init__(
        self, engine: Engine | str, keyring: Keyring, *, clock: Clock = system_clock
    ) -> None:
        self._engine = make_engine(engine) if isinstance(engine, str) else engine
        self._owns_engine = isinstance(engine, str)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self.keyring = keyring
        self.clock = clock

    def close(self) -> None:
        """Release the connection pool if the store created its engine."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> VoiceprintStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session, one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def now(self) -> datetime:
        return utc(self.clock())

    # -- customers -------------------------------------------------------------------------

    def add_customer(
        self,
        *,
        actor: str,
        customer_id: str | None = None,
        phones: Sequence[str] = (),
        eid_hint: str | None = None,
        status: CustomerStatus = CustomerStatus.ACTIVE,
    ) -> Customer:
        """Register a customer (a new random id unless the bank's own id is given)."""
        cid = validate.record_id("customer", customer_id or uuid.uuid4().hex)
        numbers = sorted({validate.phone(p) for p in phones})
        now = self.now()
        try:
            with self.transaction() as session:
                if session.get(CustomerRow, cid) is not None:
                    raise DuplicateRecord("customer", cid)
                for number in numbers:
                    if session.get(PhoneRow, number) is not None:
                        raise DuplicateRecord("phone number", number)
                row = CustomerRow(
                    id=cid,
                    status=status.value,
                    eid_hint=eid_hint,
                    created_at=now,
                    phones=[PhoneRow(e164=n) for n in numbers],
                )
                session.add(row)
                audit.append(
                    session,
                    at=now,
                    actor=actor,
                    action="customer.add",
                    customer_id=cid,
                    details={"phones": len(numbers)},
                )
                session.flush()
                return convert.customer(row)
        except IntegrityError as error:
            # A concurrent writer took the id or a number between our check and our insert.
            raise DuplicateRecord("customer or phone number", cid) from error

    def get_customer(self, customer_id: str) -> Customer:
        with self.transaction() as session:
            return convert.customer(_customer(session, customer_id))

    def find_by_phone(self, e164: str) -> Customer | None:
        """The customer whose number this is (ANI lookup), or None."""
        with self.transaction() as session:
            phone = session.get(PhoneRow, validate.phone(e164))
            return None if phone is None else convert.customer(phone.customer)

    # -- consent ---------------------------------------------------------------------------

    def grant_consent(
        self,
        customer_id: str,
        *,
        actor: str,
        text_version: str,
        channel: ConsentChannel,
        evidence: str,
        purpose: str = VOICE_BIOMETRICS,
    ) -> Consent:
        """Record an explicit opt-in with what was agreed to, how, when and the proof.

        GDPR Art. 7(1): the controller must be able to demonstrate consent, hence the consent
        text's version and the evidence (a DTMF key press, an agent's confirmation, a form id).
        """
        now = self.now()
        try:
            with self.transaction() as session:
                _customer(session, customer_id)
                if _active_consent(session, customer_id, purpose) is not None:
                    raise DuplicateRecord("active consent", f"{customer_id}/{purpose}")
                row = ConsentRow(
                    id=uuid.uuid4().hex,
                    customer_id=customer_id,
                    purpose=purpose,
                    text_version=text_version,
                    channel=channel.value,
                    evidence=evidence,
                    granted_at=now,
                    withdrawn_at=None,
                )
                session.add(row)
                audit.append(
                    session,
                    at=now,
                    actor=actor,
                    action="consent.grant",
                    customer_id=customer_id,
                    details={
                        "purpose": purpose,
                        "text_version": text_version,
                        "channel": channel.value,
                        "consent_id": row.id,
                    },
                )
                session.flush()
                return convert.consent(row)
        except IntegrityError as error:
            raise DuplicateRecord("active consent", f"{customer_id}/{purpose}") from error

    def withdraw_consent(
        self, customer_id: str, *, actor: str, purpose: str = VOICE_BIOMETRICS
    ) -> ErasureReport:
        """End the consent and delete the customer's voiceprints in the same transaction.

        GDPR Art. 7(3) (withdrawal as easy as giving) and Art. 17(1)(b) (erase once the lawful
        basis is gone): no window exists in which a voiceprint outlives its consent.
        """
        now = self.now()
        with self.transaction() as session:
            _customer(session, customer_id)
            row = _active_consent(session, customer_id, purpose)
            if row is None:
                raise NoConsent(customer_id, purpose)
            row.withdrawn_at = now
            deleted = rights.delete_voiceprints(session, customer_id)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="consent.withdraw",
                customer_id=customer_id,
                details={"purpose": purpose, "consent_id": row.id, "voiceprints_deleted": deleted},
            )
            return ErasureReport(customer_id, deleted, 0, 0)

    def has_consent(self, customer_id: str, purpose: str = VOICE_BIOMETRICS) -> bool:
        with self.transaction() as session:
            _customer(session, customer_id)
            return _active_consent(session, customer_id, purpose) is not None

    def consents(self, customer_id: str) -> list[Consent]:
        """Every consent of the customer, withdrawn ones included, oldest first."""
        with self.transaction() as session:
            return [convert.consent(c) for c in _customer(session, customer_id).consents]

    # -- voiceprints -----------------------------------------------------------------------

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
            _customer(session, customer_id)
            if _active_consent(session, customer_id, VOICE_BIOMETRICS, lock=True) is None:
                raise NoConsent(customer_id, VOICE_BIOMETRICS)
            row = _voiceprint(session, customer_id, model)
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
            _customer(session, customer_id)
            if _active_consent(session, customer_id, VOICE_BIOMETRICS) is None:
                raise NoConsent(customer_id, VOICE_BIOMETRICS)
            row = _voiceprint(session, customer_id, model)
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
            return [convert.voiceprint(v) for v in _customer(session, customer_id).voiceprints]

    # -- rights (GDPR Art. 15, 17, 20; retention Art. 5(1)(e)) -----------------------------

    def erase_customer(self, customer_id: str, *, actor: str) -> ErasureReport:
        """Delete everything held on the customer (Art. 17); the audit keeps that it happened."""
        now = self.now()
        with self.transaction() as session:
            report = rights.erase(session, _customer(session, customer_id))
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
                },
            )
            return report

    def export_customer(self, customer_id: str, *, actor: str) -> dict[str, Any]:
        """Everything held on the customer as JSON-able data (Art. 15 access, Art. 20 portability).

        Voiceprints are exported as metadata only; `rights.export` says why.
        """
        now = self.now()
        with self.transaction() as session:
            exported = rights.export(session, _customer(session, customer_id), now)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="customer.export",
                customer_id=customer_id,
                details={},
            )
            return exported

    def purge_unused_voiceprints(self, *, unused_since: datetime, actor: str) -> int:
        """Delete voiceprints not used (nor saved) since `unused_since`; returns how many.

        Storage limitation (Art. 5(1)(e)): a voiceprint nobody verifies against any more has
        no purpose left. Each deletion is audited under its customer.
        """
        cutoff, now = utc(unused_since), self.now()
        with self.transaction() as session:
            rows = rights.expired_voiceprints(session, cutoff)
            expired = [(r.customer_id, r.model) for r in rows]
            rights.delete_voiceprint_rows(session, [r.id for r in rows])
            # Audit after every row change: the audit lock is always taken last (no deadlock).
            for customer_id, model in expired:
                audit.append(
                    session,
                    at=now,
                    actor=actor,
                    action="voiceprint.expire",
                    customer_id=customer_id,
                    details={"model": model, "unused_since": cutoff.isoformat(timespec="seconds")},
                )
            return len(expired)

    # -- watchlist -------------------------------------------------------------------------

    def watchlist_add(
        self, embedding: Embedding, *, actor: str, reason: str, case_id: str
    ) -> WatchlistEntry:
        """Seal a known fraudster's voiceprint onto the watchlist under a fraud case."""
        now = self.now()
        with self.transaction() as session:
            entry = watchlist.add(
                session, self.keyring, embedding, reason=reason, case_id=case_id, now=now
            )
            audit.append(
                session,
                at=now,
                actor=actor,
                action="watchlist.add",
                customer_id=None,
                details={"entry_id": entry.id, "model": entry.model, "case_id": case_id},
            )
            return entry

    def watchlist(self, model: str | None = None) -> list[WatchlistEntry]:
        """Watchlist entries (of one model if given), oldest first."""
        with self.transaction() as session:
            return watchlist.entries(session, model)

    def watchlist_embeddings(self, model: str) -> list[tuple[WatchlistEntry, Embedding]]:
        """Unsealed watchlist voiceprints of `model`, to build the 1:N search index."""
        with self.transaction() as session:
            return watchlist.embeddings(session, self.keyring, model)

    def watchlist_remove(self, entry_id: str, *, actor: str) -> None:
        """Take an entry off the watchlist (case closed, or a false alarm)."""
        now = self.now()
        with self.transaction() as session:
            model = watchlist.remove(session, entry_id)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="watchlist.remove",
                customer_id=None,
                details={"entry_id": entry_id, "model": model},
            )

    # -- audit -----------------------------------------------------------------------------

    def audit_entries(self, customer_id: str | None = None) -> list[AuditEntry]:
        """Audit entries in order, all or those about one customer."""
        with self.transaction() as session:
            query = select(AuditRow).order_by(AuditRow.seq)
            if customer_id is not None:
                query = query.where(AuditRow.customer_id == customer_id)
            return [audit.to_entry(r) for r in session.scalars(query)]

    def verify_audit_chain(self) -> ChainHead:
        """Check the whole hash chain; raises AuditChainBroken at the first bad entry."""
        with self.transaction() as session:
            return audit.verify_chain(session)


def _customer(session: Session, customer_id: str) -> CustomerRow:
    row = session.get(CustomerRow, customer_id)
    if row is None:
        raise UnknownCustomer(customer_id)
    return row


def _active_consent(
    session: Session, customer_id: str, purpose: str, *, lock: bool = False
) -> ConsentRow | None:
    """The active consent; `lock` holds it (PostgreSQL) so a withdrawal waits for our commit."""
    query = select(ConsentRow).where(
        ConsentRow.customer_id == customer_id,
        ConsentRow.purpose == purpose,
        ConsentRow.withdrawn_at.is_(None),
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _voiceprint(session: Session, customer_id: str, model: str) -> VoiceprintRow | None:
    return session.scalars(
        select(VoiceprintRow).where(
            VoiceprintRow.customer_id == customer_id, VoiceprintRow.model == model
        )
    ).first()
