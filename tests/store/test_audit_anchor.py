"""The anchor outside the database catches what the chain alone cannot: a cut-off tail and a
log rewritten with fresh hashes; a forged anchor file is caught too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from voiceauth.errors import AuditChainBroken, MissingKey, TamperedData
from voiceauth.store import AuditAnchor, ChainHead, Keyring, VoiceprintStore
from voiceauth.store.audit import GENESIS_HASH, row_hash
from voiceauth.store.tables import AuditRow

from .conftest import Database
from .helpers import KEY2, FakeClock, enrolled_customer


@pytest.fixture
def anchored(
    database: Database, keyring: Keyring, clock: FakeClock, tmp_path: Path
) -> Iterator[VoiceprintStore]:
    """A store anchoring its chain in a file, with two enrolled customers (6 entries)."""
    anchor = AuditAnchor(tmp_path / "anchor" / "audit-anchor.json", keyring)
    with VoiceprintStore(database.url, keyring, clock=clock, anchor=anchor) as store:
        enrolled_customer(store)
        enrolled_customer(store, phone="+4930555555", seed=1)
        yield store


def _chain_alone(database: Database, keyring: Keyring) -> int:
    """The chain's length as it verifies without the anchor."""
    with VoiceprintStore(database.url, keyring) as store:
        return store.verify_audit_chain().seq


def _rewrite(store: VoiceprintStore, seq: int, actor: str) -> None:
    """Change one entry and recompute every hash from there: a chain valid in itself."""
    with store.transaction() as session:
        rows = session.scalars(select(AuditRow).order_by(AuditRow.seq)).all()
        prev = GENESIS_HASH
        for row in rows:
            if row.seq == seq:
                row.actor = actor
            row.prev_hash = prev
            row.hash = row_hash(row, prev)
            prev = row.hash


def test_every_commit_advances_the_anchor(anchored: VoiceprintStore) -> None:
    assert anchored.anchor is not None
    head = anchored.verify_audit_chain()
    assert head == anchored.anchor.read() == ChainHead(6, anchored.audit_entries()[-1].hash)
    anchored.anchor.advance(ChainHead(2, "0" * 64))  # an older head never moves it back
    assert anchored.anchor.read() == head


def test_truncated_tail_detected(
    anchored: VoiceprintStore, database: Database, keyring: Keyring
) -> None:
    with anchored.transaction() as session:
        session.execute(text("DELETE FROM audit_log WHERE seq > 4"))
    assert _chain_alone(database, keyring) == 4  # valid on its own
    with pytest.raises(AuditChainBroken, match="entry 5: the log ends at entry 4 but entry 6"):
        anchored.verify_audit_chain()


def test_rewritten_log_detected(
    anchored: VoiceprintStore, database: Database, keyring: Keyring
) -> None:
    _rewrite(anchored, 2, "someone-else")
    assert _chain_alone(database, keyring) == 6
    with pytest.raises(AuditChainBroken, match="entry 6: hash differs from the one anchored"):
        anchored.verify_audit_chain()


def test_emptied_log_detected(anchored: VoiceprintStore) -> None:
    with anchored.transaction() as session:
        session.execute(text("DELETE FROM audit_log"))
    with pytest.raises(AuditChainBroken, match="the log ends at entry 0"):
        anchored.verify_audit_chain()


def test_forged_or_foreign_anchor_detected(anchored: VoiceprintStore, tmp_path: Path) -> None:
    assert anchored.anchor is not None
    path = anchored.anchor.path
    stored = json.loads(path.read_text())
    path.write_text(json.dumps({**stored, "seq": 4}))
    with pytest.raises(TamperedData, match="signature does not verify"):
        anchored.verify_audit_chain()
    path.write_text("not json")
    with pytest.raises(TamperedData, match="not an anchor file"):
        anchored.verify_audit_chain()
    other = AuditAnchor(tmp_path / "other.json", Keyring({"k2": KEY2}, "k2"))
    other.advance(ChainHead(6, stored["hash"]))
    with pytest.raises(MissingKey, match="key 'k2' is not in the keyring"):
        AuditAnchor(other.path, anchored.keyring).read()


def test_reanchor_after_a_deliberate_restore(anchored: VoiceprintStore) -> None:
    with anchored.transaction() as session:
        session.execute(text("DELETE FROM audit_log WHERE seq > 3"))
    with pytest.raises(AuditChainBroken):
        anchored.verify_audit_chain()
    head = anchored.reanchor_audit(actor="dpo")
    assert head.seq == 4 and anchored.verify_audit_chain() == head
    last = anchored.audit_entries()[-1]
    assert (last.action, last.actor, last.details) == ("audit.reanchor", "dpo", {"replaced_seq": 6})
