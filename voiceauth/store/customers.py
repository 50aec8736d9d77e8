"""Customers and their consent: registration, ANI lookup, opt-in and withdrawal.

Consent gates processing: without an active consent for "voice_biometrics" no voiceprint is
saved or loaded (GDPR Art. 9(2)(a): explicit consent is the lawful basis for biometric data used
to identify a person), and withdrawing consent deletes the voiceprints in the same transaction
(Art. 7(3), Art. 17(1)(b)).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from voiceauth.errors import DuplicateRecord, NoConsent
from voiceauth.store import audit, convert, rights, validate
from voiceauth.store.core import StoreCore, active_consent, customer_row
from voiceauth.store.records import (
    VOICE_BIOMETRICS,
    Consent,
    ConsentChannel,
    Customer,
    CustomerStatus,
    ErasureReport,
)
from voiceauth.store.tables import ConsentRow, CustomerRow, PhoneRow


class CustomerOps(StoreCore):
    """Customer records and consents; mixed into `VoiceprintStore`."""

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
            return convert.customer(customer_row(session, customer_id))

    def find_by_phone(self, e164: str) -> Customer | None:
        """The customer whose number this is (ANI lookup), or None."""
        with self.transaction() as session:
            phone = session.get(PhoneRow, validate.phone(e164))
            return None if phone is None else convert.customer(phone.customer)

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
                customer_row(session, customer_id)
                if active_consent(session, customer_id, purpose) is not None:
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
            customer_row(session, customer_id)
            row = active_consent(session, customer_id, purpose)
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
            customer_row(session, customer_id)
            return active_consent(session, customer_id, purpose) is not None

    def consents(self, customer_id: str) -> list[Consent]:
        """Every consent of the customer, withdrawn ones included, oldest first."""
        with self.transaction() as session:
            return [convert.consent(c) for c in customer_row(session, customer_id).consents]
