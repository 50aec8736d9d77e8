"""Encryption at rest: keys, rotation, tampering, moved ciphertexts, and what a dump shows."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from sqlalchemy import text

from voiceauth.errors import MissingKey, TamperedData, WrongKey
from voiceauth.store import Keyring, VoiceprintStore, rotate

from .conftest import Database
from .helpers import KEY1, KEY2, FakeClock, embedding, enrolled_customer


def _sealed(store: VoiceprintStore, customer_id: str) -> bytes:
    with store.transaction() as session:
        value = session.execute(
            text("SELECT sealed FROM voiceprints WHERE customer_id = :c"), {"c": customer_id}
        ).scalar_one()
    return bytes(value)


def _set_sealed(store: VoiceprintStore, customer_id: str, sealed: bytes) -> None:
    with store.transaction() as session:
        session.execute(
            text("UPDATE voiceprints SET sealed = :s WHERE customer_id = :c"),
            {"s": sealed, "c": customer_id},
        )


def test_key_rotation_rewraps_everything(
    store: VoiceprintStore, database: Database, clock: FakeClock
) -> None:
    customers = [enrolled_customer(store, phone=f"+49301234{i:02d}", seed=i) for i in range(5)]
    store.watchlist_add(embedding(50), actor="fraud", reason="account takeover", case_id="F-1")
    both = Keyring({"k2": KEY2, "k1": KEY1}, "k2")
    with VoiceprintStore(database.url, both, clock=clock) as rotating:
        enrolled_customer(rotating, phone="+4930999999", seed=9)  # already under k2
        report = rotate(rotating, "k2", actor="ops:rotation", batch=2)
        assert (report.voiceprints, report.watchlist) == (5, 1)
        assert rotate(rotating, "k2", actor="ops:rotation").voiceprints == 0  # re-runnable
        with pytest.raises(MissingKey, match="'k3'"):
            rotate(rotating, "k3", actor="ops:rotation")
    only_new = Keyring({"k2": KEY2}, "k2")
    with VoiceprintStore(database.url, only_new, clock=clock) as after:
        for i, customer_id in enumerate(customers):
            loaded = after.load_voiceprint(customer_id, "ge2e@1", actor="verify")
            assert loaded is not None
            np.testing.assert_array_equal(loaded.vector, embedding(i).vector)
            assert after.voiceprints(customer_id)[0].key_id == "k2"
        [(_, listed)] = after.watchlist_embeddings("ge2e@1")
        np.testing.assert_array_equal(listed.vector, embedding(50).vector)
        rotations = [e for e in after.audit_entries() if e.action == "keys.rotate"]
        assert sum(e.details["rows"] for e in rotations) == 6
        after.verify_audit_chain()


def test_wrong_or_missing_key(store: VoiceprintStore, database: Database) -> None:
    customer_id = enrolled_customer(store)
    with (
        VoiceprintStore(database.url, Keyring({"k1": KEY2}, "k1")) as wrong,
        pytest.raises(WrongKey, match="key 'k1' in the keyring is not the key it was sealed with"),
    ):
        wrong.load_voiceprint(customer_id, "ge2e@1", actor="verify")
    with (
        VoiceprintStore(database.url, Keyring({"k2": KEY2}, "k2")) as missing,
        pytest.raises(MissingKey, match="'k1' is not in the keyring"),
    ):
        missing.load_voiceprint(customer_id, "ge2e@1", actor="verify")
    # A failed load changes nothing: no last_used_at, no audit entry of a use.
    assert store.voiceprints(customer_id)[0].last_used_at is None
    assert "voiceprint.use" not in [e.action for e in store.audit_entries(customer_id)]


def test_flipped_byte_in_database_is_detected(store: VoiceprintStore) -> None:
    customer_id = enrolled_customer(store)
    sealed = bytearray(_sealed(store, customer_id))
    sealed[-5] ^= 0x40
    _set_sealed(store, customer_id, bytes(sealed))
    with pytest.raises(TamperedData, match="ciphertext does not authenticate"):
        store.load_voiceprint(customer_id, "ge2e@1", actor="verify")


def test_ciphertext_moved_to_another_customer_fails(store: VoiceprintStore) -> None:
    victim = enrolled_customer(store)
    attacker = enrolled_customer(store, phone="+4930555555", seed=1)
    _set_sealed(store, attacker, _sealed(store, victim))
    with pytest.raises(TamperedData, match="moved from another record"):
        store.load_voiceprint(attacker, "ge2e@1", actor="verify")


def _needles(vector: np.ndarray) -> tuple[list[bytes], list[str]]:
    """Byte patterns and text forms under which a plaintext vector could show up in a dump."""
    raw = vector.astype("<f4").tobytes()
    chunks = [raw[i : i + 16] for i in range(0, len(raw) - 16, 64)]
    texts = [raw.hex(), raw[:16].hex(), raw[:16].hex().upper()]
    texts += [repr(float(v))[:9] for v in vector[:16]]
    texts += [f"{v:.6f}" for v in vector[:16]]
    return [raw, *chunks], texts


def test_database_dump_holds_no_plaintext_embedding(
    store: VoiceprintStore, database: Database
) -> None:
    customer_id = enrolled_customer(store)
    store.load_voiceprint(customer_id, "ge2e@1", actor="verify")
    store.watchlist_add(embedding(77), actor="fraud", reason="mule", case_id="F-2")
    vectors = [embedding(0).vector, embedding(77).vector]
    if database.sqlite_path is not None:
        files = [database.sqlite_path, database.sqlite_path.with_name("voiceauth.db-wal")]
        blob = b"".join(p.read_bytes() for p in files if p.exists())
        with sqlite3.connect(database.sqlite_path) as connection:
            dump = "\n".join(connection.iterdump())
        assert 'INSERT INTO "voiceprints"' in dump
    else:
        assert database.server is not None
        dump = database.server.dump(database.name)
        blob = dump.encode()
        assert "COPY public.voiceprints" in dump
    for vector in vectors:
        patterns, texts = _needles(vector)
        for pattern in patterns:
            assert pattern not in blob
        for needle in texts:
            assert needle not in dump, needle
