from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from voiceauth.errors import TamperedData, UnknownRecord
from voiceauth.store import VoiceprintStore

from .helpers import FakeClock, embedding


def test_add_list_unseal_remove(store: VoiceprintStore, clock: FakeClock) -> None:
    first = store.watchlist_add(
        embedding(1), actor="fraud:3", reason="account takeover", case_id="F-100"
    )
    clock.advance(minutes=1)
    second = store.watchlist_add(
        embedding(2, model=("ecapa", "2")),
        actor="fraud:3",
        reason="social engineering",
        case_id="F-101",
    )
    assert store.watchlist() == [first, second]
    assert store.watchlist("ecapa@2") == [second]
    [(entry, listed)] = store.watchlist_embeddings("ge2e@1")
    assert entry == first
    np.testing.assert_array_equal(listed.vector, embedding(1).vector)
    store.watchlist_remove(first.id, actor="fraud:3")
    assert store.watchlist() == [second]
    with pytest.raises(UnknownRecord, match="unknown watchlist entry"):
        store.watchlist_remove(first.id, actor="fraud:3")
    actions = [(e.action, e.details.get("case_id")) for e in store.audit_entries()]
    assert actions == [
        ("watchlist.add", "F-100"),
        ("watchlist.add", "F-101"),
        ("watchlist.remove", None),
    ]


def test_swapped_watchlist_ciphertexts_fail(store: VoiceprintStore) -> None:
    a = store.watchlist_add(embedding(1), actor="fraud", reason="r", case_id="F-1")
    b = store.watchlist_add(embedding(2), actor="fraud", reason="r", case_id="F-2")
    with store.transaction() as session:
        sealed_a = session.execute(
            text("SELECT sealed FROM watchlist WHERE id = :i"), {"i": a.id}
        ).scalar_one()
        session.execute(
            text("UPDATE watchlist SET sealed = :s WHERE id = :i"), {"s": sealed_a, "i": b.id}
        )
    with pytest.raises(TamperedData, match=f"watchlist entry '{b.id}'"):
        store.watchlist_embeddings("ge2e@1")
