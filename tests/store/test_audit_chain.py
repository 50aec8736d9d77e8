"""The audit chain detects a modified, deleted or reordered entry."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from voiceauth.errors import AuditChainBroken, StoreError
from voiceauth.store import VoiceprintStore
from voiceauth.store.audit import GENESIS_HASH, append

from .helpers import FakeClock, enrolled_customer


def _sql(store: VoiceprintStore, *statements: str) -> None:
    with store.transaction() as session:
        for statement in statements:
            session.execute(text(statement))


@pytest.fixture
def audited(store: VoiceprintStore) -> VoiceprintStore:
    enrolled_customer(store)
    enrolled_customer(store, phone="+4930555555", seed=1)
    return store


def test_intact_chain_verifies(audited: VoiceprintStore) -> None:
    entries = audited.audit_entries()
    assert [e.seq for e in entries] == list(range(1, 7))
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    head = audited.verify_audit_chain()
    assert (head.seq, head.hash) == (6, entries[-1].hash)


def test_modified_details_detected(audited: VoiceprintStore) -> None:
    with audited.transaction() as session:
        session.execute(
            text("UPDATE audit_log SET details = :d WHERE seq = 4"), {"d": '{"phones":0}'}
        )
    with pytest.raises(AuditChainBroken, match="entry 4: content does not match its hash"):
        audited.verify_audit_chain()


def test_modified_actor_detected(audited: VoiceprintStore) -> None:
    _sql(audited, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
    with pytest.raises(AuditChainBroken, match="entry 2"):
        audited.verify_audit_chain()


def test_deleted_entry_detected(audited: VoiceprintStore) -> None:
    _sql(audited, "DELETE FROM audit_log WHERE seq = 3")
    with pytest.raises(AuditChainBroken, match=r"entry 3: entry missing \(next stored is 4\)"):
        audited.verify_audit_chain()


def test_reordered_entries_detected(audited: VoiceprintStore) -> None:
    _sql(
        audited,
        "UPDATE audit_log SET seq = 100 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 100",
    )
    with pytest.raises(AuditChainBroken, match="entry 2: prev_hash does not match"):
        audited.verify_audit_chain()


def test_details_must_be_plain_metadata(store: VoiceprintStore, clock: FakeClock) -> None:
    with store.transaction() as session, pytest.raises(StoreError, match="bytes is not allowed"):
        append(
            session,
            at=clock(),
            actor="t",
            action="x",
            customer_id=None,
            details={"vector": b"\x00\x01"},
        )
