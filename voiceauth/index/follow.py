"""Following the store's changes, so replicas sharing one database stay consistent.

Every change to voiceprints, consents and the watchlist is an entry in the audit log (the
store writes both in one transaction), so the log is also a change feed that works the same on
SQLite and PostgreSQL: each replica reads the entries after the last one it saw, every second
or so, and updates its in-memory faiss indices. The replica's own changes come back too and
are applied again, which is harmless (upsert and remove are idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceauth.index.cohort import CohortIndex
from voiceauth.index.watchlist import WatchlistMonitor
from voiceauth.store.indices import voiceprint_embeddings
from voiceauth.store.service import VoiceprintStore

SAVED = "voiceprint.save"
GONE = frozenset({"consent.withdraw", "customer.erase", "voiceprint.expire"})
"""Actions after which a customer has no usable voiceprint any more."""
WATCHLIST = frozenset({"watchlist.add", "watchlist.remove"})


@dataclass(frozen=True, slots=True)
class Changes:
    """What the entries read in one poll changed: customers whose voiceprint was saved or is
    gone (for open calls to re-check their claims), and whether the watchlist changed."""

    saved: frozenset[str]
    gone: frozenset[str]
    watchlist: bool

    def __bool__(self) -> bool:
        return bool(self.saved or self.gone or self.watchlist)


class StoreFollower:
    """Applies other replicas' changes to this replica's cohort and watchlist indices."""

    def __init__(
        self,
        store: VoiceprintStore,
        cohort: CohortIndex,
        watchlist: WatchlistMonitor,
        *,
        actor: str,
        after: int | None = None,
    ) -> None:
        self._store = store
        self._cohort = cohort
        self._watchlist = watchlist
        self._actor = actor
        self.position = store.audit_head() if after is None else after

    def poll(self) -> Changes:
        """Read and apply everything committed since the last poll (blocking: run in a thread)."""
        saved: set[str] = set()
        gone: set[str] = set()
        watchlist = False
        while entries := self._store.audit_entries_after(self.position):
            for entry in entries:
                customer = entry.customer_id
                if entry.action == SAVED and customer is not None:
                    if entry.details.get("model") == self._cohort.model:
                        saved.add(customer)
                        gone.discard(customer)
                elif entry.action in GONE and customer is not None:
                    gone.add(customer)
                    saved.discard(customer)
                elif entry.action in WATCHLIST:
                    watchlist = True
            self.position = entries[-1].seq
        for customer in gone:
            self._cohort.remove(customer)
        if saved:
            for customer, embedding in voiceprint_embeddings(
                self._store, self._cohort.model, actor=self._actor, customer_ids=saved
            ):
                self._cohort.upsert(customer, embedding.vector)
        if watchlist:
            self._watchlist.reload()
        return Changes(frozenset(saved), frozenset(gone), watchlist)
