"""GDPR rights: erasure (Art. 17), export (Art. 15/20), retention (Art. 5(1)(e))."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from voiceauth.errors import InvalidRecord, UnknownCustomer
from voiceauth.store import VoiceprintStore
from voiceauth.store.rights import EMBEDDING_WITHHELD

from .helpers import EVIDENCE, PHONE, FakeClock, embedding, enrolled_customer

PERSONAL_TABLES = ("customers", "customer_phones", "consents", "voiceprints")


def _all_text(store: VoiceprintStore, table: str) -> str:
    with store.transaction() as session:
        return repr(session.execute(text(f"SELECT * FROM {table}")).all())


def test_erasure_leaves_no_personal_rows(store: VoiceprintStore) -> None:
    erased = enrolled_customer(store)
    kept = enrolled_customer(store, phone="+4930555555", seed=1)
    report = store.erase_customer(erased, actor="dpo:7")
    assert (report.voiceprints, report.consents, report.phones) == (1, 1, 1)
    with store.transaction() as session:
        for table in PERSONAL_TABLES:
            column = "id" if table == "customers" else "customer_id"
            count = session.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :c"), {"c": erased}
            ).scalar()
            assert count == 0, table
    assert store.find_by_phone(PHONE) is None
    with pytest.raises(UnknownCustomer):
        store.export_customer(erased, actor="dpo:7")
    # The audit keeps the fact of the erasure, but no phone number, hint or evidence text.
    log = _all_text(store, "audit_log")
    for personal in (PHONE, EVIDENCE, "bankid:hint"):
        assert personal not in log
    assert store.audit_entries(erased)[-1].action == "customer.erase"
    assert store.get_customer(kept).phones == ("+4930555555",)
    store.verify_audit_chain()


def test_export_holds_everything_but_the_vector(store: VoiceprintStore, clock: FakeClock) -> None:
    customer_id = enrolled_customer(store)
    clock.advance(hours=1)
    store.load_voiceprint(customer_id, "ge2e@1", actor="verify", call_id="c-2")
    exported = store.export_customer(customer_id, actor="dpo:7")
    text_form = json.dumps(exported)  # JSON-able as it is
    assert exported["phone_numbers"] == [PHONE]
    assert exported["customer"]["eid_hint"] == "bankid:hint"
    assert exported["consents"][0]["evidence"] == EVIDENCE
    voiceprint = exported["voiceprints"][0]
    assert voiceprint["model"] == "ge2e@1"
    assert voiceprint["source_call_ids"] == ["c-1"]
    assert voiceprint["last_used_at"] == clock.now.isoformat()
    assert voiceprint["embedding"] == "withheld"
    assert exported["voiceprint_note"] == EMBEDDING_WITHHELD
    assert [e["action"] for e in exported["processing_log"]] == [
        "customer.add",
        "consent.grant",
        "voiceprint.save",
        "voiceprint.use",
    ]
    for value in embedding(0).vector[:8]:
        assert repr(float(value))[:8] not in text_form
    assert store.audit_entries(customer_id)[-1].action == "customer.export"


def test_retention_deletes_unused_voiceprints(store: VoiceprintStore, clock: FakeClock) -> None:
    used = enrolled_customer(store)
    unused = enrolled_customer(store, phone="+4930555555", seed=1)
    clock.advance(days=100)
    store.load_voiceprint(used, "ge2e@1", actor="verify")
    clock.advance(days=100)
    cutoff = clock.now - timedelta(days=150)
    report = store.run_retention(unused_days=150, actor="system:retention")
    assert report.expired == ((unused, "ge2e@1"),) and report.unused_since == cutoff
    assert store.voiceprints(unused) == []
    assert len(store.voiceprints(used)) == 1
    assert store.has_consent(unused)  # retention ends the voiceprint, not the consent
    expire = store.audit_entries(unused)[-1]
    assert (expire.action, expire.details["model"]) == ("voiceprint.expire", "ge2e@1")
    again = store.purge_unused_voiceprints(unused_since=cutoff, actor="system:retention")
    assert again.expired == ()
    run = store.audit_entries()[-1]
    assert (run.action, run.actor, run.details["voiceprints_deleted"]) == (
        "retention.run",
        "system:retention",
        0,
    )
    with pytest.raises(InvalidRecord, match="unused_days must be >= 1, got 0"):
        store.run_retention(unused_days=0, actor="system:retention")
