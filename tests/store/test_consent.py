"""Consent gates every use of a voiceprint; withdrawal deletes them at once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from voiceauth.errors import DuplicateRecord, InvalidRecord, NoConsent, UnknownCustomer
from voiceauth.store import ConsentChannel, VoiceprintStore
from voiceauth.store.tables import VoiceprintRow

from .helpers import PHONE, FakeClock, embedding, enrolled_customer


def _grant(store: VoiceprintStore, customer_id: str) -> None:
    store.grant_consent(
        customer_id,
        actor="agent:1",
        text_version="vb-2026-01",
        channel=ConsentChannel.AGENT,
        evidence="agent confirmed on call c-9",
    )


def _voiceprint_rows(store: VoiceprintStore) -> int:
    with store.transaction() as session:
        return session.scalar(select(func.count()).select_from(VoiceprintRow)) or 0


def test_customers_and_ani_lookup(store: VoiceprintStore) -> None:
    customer = store.add_customer(
        actor="crm", customer_id="C-1001", phones=[PHONE, "+491701234"], eid_hint="bankid:1234"
    )
    assert customer.phones == ("+491701234", PHONE)
    assert store.find_by_phone(PHONE) == customer
    assert store.find_by_phone("+4930999999") is None
    assert store.get_customer("C-1001").eid_hint == "bankid:1234"
    with pytest.raises(DuplicateRecord, match="duplicate customer: 'C-1001'"):
        store.add_customer(actor="crm", customer_id="C-1001")
    with pytest.raises(DuplicateRecord, match=r"phone number: '\+4930123456'"):
        store.add_customer(actor="crm", phones=[PHONE])
    with pytest.raises(InvalidRecord, match="not E.164"):
        store.add_customer(actor="crm", phones=["030 123456"])
    with pytest.raises(UnknownCustomer, match="unknown customer: 'nobody'"):
        store.get_customer("nobody")


def test_no_consent_no_voiceprint(store: VoiceprintStore) -> None:
    customer = store.add_customer(actor="crm")
    assert not store.has_consent(customer.id)
    with pytest.raises(NoConsent, match="no active consent for 'voice_biometrics'"):
        store.save_voiceprint(customer.id, embedding(), actor="enrol")
    with pytest.raises(NoConsent):
        store.load_voiceprint(customer.id, "ge2e@1", actor="verify")
    assert _voiceprint_rows(store) == 0
    assert [e.action for e in store.audit_entries(customer.id)] == ["customer.add"]
    _grant(store, customer.id)
    assert store.has_consent(customer.id)
    assert store.load_voiceprint(customer.id, "ge2e@1", actor="verify") is None


def test_save_load_and_replace(store: VoiceprintStore, clock: FakeClock) -> None:
    customer_id = enrolled_customer(store)
    first = store.voiceprints(customer_id)[0]
    loaded = store.load_voiceprint(customer_id, "ge2e@1", actor="verify", call_id="c-2")
    assert loaded is not None
    assert (loaded.model, loaded.net_speech_s) == ("ge2e@1", 23.5)
    assert loaded.vector.tobytes() == embedding(0).vector.tobytes()
    clock.advance(days=1)
    info = store.save_voiceprint(customer_id, embedding(5), actor="refine")
    assert (info.created_at, info.updated_at) == (first.created_at, clock.now)
    assert _voiceprint_rows(store) == 1
    other = store.save_voiceprint(customer_id, embedding(6, model=("ecapa", "2")), actor="enrol")
    assert other.model == "ecapa@2"
    assert [v.model for v in store.voiceprints(customer_id)] == ["ecapa@2", "ge2e@1"]
    use = [e for e in store.audit_entries(customer_id) if e.action == "voiceprint.use"]
    assert use[0].details == {"model": "ge2e@1", "call_id": "c-2"}


def test_withdrawal_deletes_voiceprints(store: VoiceprintStore) -> None:
    customer_id = enrolled_customer(store)
    store.save_voiceprint(customer_id, embedding(6, model=("ecapa", "2")), actor="enrol")
    report = store.withdraw_consent(customer_id, actor="ivr")
    assert report.voiceprints == 2
    assert _voiceprint_rows(store) == 0
    assert not store.has_consent(customer_id)
    with pytest.raises(NoConsent):
        store.load_voiceprint(customer_id, "ge2e@1", actor="verify")
    with pytest.raises(NoConsent):
        store.withdraw_consent(customer_id, actor="ivr")
    consents = store.consents(customer_id)
    assert len(consents) == 1 and not consents[0].active
    _grant(store, customer_id)  # a new opt-in after a withdrawal is allowed
    assert [c.active for c in store.consents(customer_id)] == [False, True]
    withdrawal = [e for e in store.audit_entries(customer_id) if e.action == "consent.withdraw"]
    assert withdrawal[0].details["voiceprints_deleted"] == 2


def test_one_active_consent(store: VoiceprintStore) -> None:
    customer_id = enrolled_customer(store)
    with pytest.raises(DuplicateRecord, match="active consent"):
        _grant(store, customer_id)
    with pytest.raises(UnknownCustomer):
        _grant(store, "nobody")


def test_bad_embeddings_are_refused(store: VoiceprintStore) -> None:
    customer_id = enrolled_customer(store)
    bad = embedding()
    bad.vector[3] = float("nan")
    with pytest.raises(InvalidRecord, match="NaN"):
        store.save_voiceprint(customer_id, bad, actor="enrol")
