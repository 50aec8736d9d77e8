"""The fraud watchlist: sealed voiceprints of known fraudsters, by case.

Entries are not customers: they hold no phone number or name, only the sealed embedding, its
model, why it is listed and the fraud case that justifies keeping it (GDPR Art. 6(1)(f) and
Art. 9(2)(f), fraud prevention and legal claims; recital 47). Sealed exactly like customer
voiceprints, bound to the entry id and model. `WatchlistOps` (mixed into `VoiceprintStore`)
wraps the functions below in a transaction with an audit entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceauth.embeddings.base import Embedding
from voiceauth.errors import UnknownRecord
from voiceauth.store import audit, convert, sealing, validate
from voiceauth.store.core import StoreCore
from voiceauth.store.keyring import Keyring
from voiceauth.store.records import WatchlistEntry
from voiceauth.store.tables import WatchlistRow

WATCHLIST = "watchlist"
"""Associated-data kind of watchlist entries (see `sealing.context`)."""


def add(
    session: Session,
    keyring: Keyring,
    embedding: Embedding,
    *,
    reason: str,
    case_id: str,
    now: datetime,
) -> WatchlistEntry:
    model = validate.embedding(embedding)
    entry_id = uuid.uuid4().hex
    kid, sealed = sealing.seal(
        keyring, embedding.vector, sealing.context(WATCHLIST, entry_id, model)
    )
    row = WatchlistRow(
        id=entry_id,
        model=model,
        sealed=sealed,
        key_id=kid,
        reason=reason,
        case_id=case_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return convert.watchlist_entry(row)


def entries(session: Session, model: str | None) -> list[WatchlistEntry]:
    query = select(WatchlistRow).order_by(WatchlistRow.created_at, WatchlistRow.id)
    if model is not None:
        query = query.where(WatchlistRow.model == model)
    return [convert.watchlist_entry(r) for r in session.scalars(query)]


def embeddings(
    session: Session, keyring: Keyring, model: str
) -> list[tuple[WatchlistEntry, Embedding]]:
    embedder_id, version = validate.split_model(model)
    rows = session.scalars(
        select(WatchlistRow)
        .where(WatchlistRow.model == model)
        .order_by(WatchlistRow.created_at, WatchlistRow.id)
    )
    out: list[tuple[WatchlistEntry, Embedding]] = []
    for row in rows:
        vector = sealing.unseal(
            keyring,
            row.key_id,
            row.sealed,
            sealing.context(WATCHLIST, row.id, row.model),
            record=f"watchlist entry {row.id!r}",
        )
        out.append((convert.watchlist_entry(row), Embedding(embedder_id, version, vector)))
    return out


def remove(session: Session, entry_id: str) -> str:
    """Delete the entry; returns its model. UnknownRecord if there is none."""
    row = session.get(WatchlistRow, entry_id)
    if row is None:
        raise UnknownRecord("watchlist entry", entry_id)
    session.delete(row)
    return row.model


class WatchlistOps(StoreCore):
    """The watchlist's records; `index.WatchlistMonitor` keeps its search index in step."""

    def watchlist_add(
        self, embedding: Embedding, *, actor: str, reason: str, case_id: str
    ) -> WatchlistEntry:
        """Seal a known fraudster's voiceprint onto the watchlist under a fraud case."""
        now = self.now()
        with self.transaction() as session:
            entry = add(session, self.keyring, embedding, reason=reason, case_id=case_id, now=now)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="watchlist.add",
                customer_id=None,
                details={"entry_id": entry.id, "model": entry.model, "case_id": case_id},
            )
            return entry

    def watchlist(self, model: str | None = None) -> list[WatchlistEntry]:
        """Watchlist entries (of one model if given), oldest first."""
        with self.transaction() as session:
            return entries(session, model)

    def watchlist_embeddings(self, model: str) -> list[tuple[WatchlistEntry, Embedding]]:
        """Unsealed watchlist voiceprints of `model`, to build the 1:N search index."""
        with self.transaction() as session:
            return embeddings(session, self.keyring, model)

    def watchlist_remove(self, entry_id: str, *, actor: str) -> None:
        """Take an entry off the watchlist (case closed, or a false alarm)."""
        now = self.now()
        with self.transaction() as session:
            model = remove(session, entry_id)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="watchlist.remove",
                customer_id=None,
                details={"entry_id": entry_id, "model": model},
            )
