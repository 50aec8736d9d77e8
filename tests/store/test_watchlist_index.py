"""The faiss watchlist index follows the store: built from it, updated after each commit."""

from __future__ import annotations

import numpy as np
import pytest

from voiceauth.errors import DuplicateRecord, EmbedderMismatch, UnknownRecord
from voiceauth.index import VectorIndex, WatchlistMonitor
from voiceauth.store import VoiceprintStore

from .helpers import embedding


def test_vector_index_add_search_remove() -> None:
    index = VectorIndex("ge2e@1", 4)
    index.add("a", [1.0, 0.0, 0.0, 0.0])
    index.add("b", [0.0, 2.0, 0.0, 0.0])
    assert index.search([0.0, 0.0, 1.0, 0.0], threshold=0.5) == []
    [hit] = index.search([0.9, 0.1, 0.0, 0.0], threshold=0.5)
    assert hit.record_id == "a" and hit.score == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    with pytest.raises(DuplicateRecord):
        index.add("a", [1.0, 0.0, 0.0, 0.0])
    assert index.remove("a") and not index.remove("a")
    assert [h.record_id for h in index.search([1.0, 1.0, 0, 0], threshold=0.0)] == ["b"]
    assert len(index) == 1 and "b" in index


def test_monitor_rebuilds_from_the_store_and_follows_it(store: VoiceprintStore) -> None:
    listed = store.watchlist_add(embedding(1), actor="fraud", reason="ato", case_id="F-1")
    monitor = WatchlistMonitor.build(store, "ge2e@1", 192)
    assert len(monitor.index) == 1
    [hit] = monitor.search(embedding(1), threshold=0.9)
    assert hit.record_id == listed.id
    added = monitor.add(embedding(2), actor="fraud", reason="ato", case_id="F-2")
    assert monitor.search(embedding(2), threshold=0.9)[0].record_id == added.id
    monitor.remove(listed.id, actor="fraud")
    assert monitor.search(embedding(1), threshold=0.9) == []
    with pytest.raises(UnknownRecord):
        monitor.remove(listed.id, actor="fraud")
    with pytest.raises(EmbedderMismatch):
        monitor.search(embedding(3, model=("ecapa", "2")))
    rebuilt = WatchlistMonitor.build(store, "ge2e@1", 192)
    assert set(rebuilt.index._labels) == set(monitor.index._labels) == {added.id}
