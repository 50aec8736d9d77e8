"""`WatchlistMonitor`: the fraud watchlist's 1:N search, kept consistent with the store.

Built from the database at start (`store.watchlist_embeddings(model)`) so every replica sees
the same list; changes go to the database first and reach the index only after the commit,
so the index never holds an entry the database lacks (a crash between the two leaves the
index short of one entry, and the next start rebuilds it from the database). A hit is a fraud
alert signal: the call goes to the fraud queue whatever else says (ARCHITECTURE).
"""

from __future__ import annotations

from voiceauth.embeddings.base import Embedding
from voiceauth.index.vectors import Hit, VectorIndex
from voiceauth.store.records import WatchlistEntry
from voiceauth.store.service import VoiceprintStore

DEFAULT_ALERT_COSINE = 0.75
# a starting point, not tuned: GE2E same-speaker cross-session cosines mostly lie above it,
# different speakers mostly below (enrolment_consistency figures); set it from the target
# false-alarm rate on telephone audio.


class WatchlistMonitor:
    """Add, remove and search watchlist entries of one embedder model."""

    def __init__(self, store: VoiceprintStore, index: VectorIndex) -> None:
        self._store = store
        self.index = index

    @classmethod
    def build(cls, store: VoiceprintStore, model: str, dimension: int) -> WatchlistMonitor:
        """The index of every watchlist entry of `model` in the database."""
        monitor = cls(store, VectorIndex(model, dimension))
        monitor.reload()
        return monitor

    def reload(self) -> None:
        """Rebuild the index from the database (another replica changed the watchlist)."""
        fresh = VectorIndex(self.index.model, self.index.dimension)
        for entry, embedding in self._store.watchlist_embeddings(self.index.model):
            fresh.add(entry.id, embedding.vector)
        self.index = fresh

    def add(self, embedding: Embedding, *, actor: str, reason: str, case_id: str) -> WatchlistEntry:
        self.index.check_model(embedding.model)
        entry = self._store.watchlist_add(embedding, actor=actor, reason=reason, case_id=case_id)
        self.index.add(entry.id, embedding.vector)
        return entry

    def remove(self, entry_id: str, *, actor: str) -> None:
        self._store.watchlist_remove(entry_id, actor=actor)
        self.index.remove(entry_id)

    def search(
        self, embedding: Embedding, *, threshold: float = DEFAULT_ALERT_COSINE, k: int = 5
    ) -> list[Hit]:
        """Entries the speech matches at or above `threshold` (cosine), best first."""
        self.index.check_model(embedding.model)
        return self.index.search(embedding.vector, threshold=threshold, k=k)
