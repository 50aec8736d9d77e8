"""Key rotation: re-wrap every voiceprint's and watchlist entry's data key under a new KEK.

NIST SP 800-57 Part 1 §5.3 limits how long a key-encryption key stays in use (its
cryptoperiod); a suspected leak shortens it to now. Only the 48-byte wrapped data keys change:
the embeddings' ciphertexts stay as they are. Rows are re-wrapped in batches, each its own
transaction with an audit entry, so a rotation that is interrupted leaves every row readable
(under the old or the new key, both still in the keyring) and can simply be run again.
Retire the old key only after `rotate` reports zero rows left under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceauth.store import audit, sealing
from voiceauth.store.service import VOICEPRINT, VoiceprintStore
from voiceauth.store.tables import VoiceprintRow, WatchlistRow
from voiceauth.store.watchlist import WATCHLIST

DEFAULT_BATCH = 200


@dataclass(frozen=True, slots=True)
class RotationReport:
    new_key_id: str
    voiceprints: int
    watchlist: int


def rotate(
    store: VoiceprintStore, new_kid: str, *, actor: str, batch: int = DEFAULT_BATCH
) -> RotationReport:
    """Re-wrap every record not yet under `new_kid`; MissingKey if the keyring lacks it."""
    store.keyring.key(new_kid)
    voiceprints = _rotate_table(store, VoiceprintRow, new_kid, actor=actor, batch=batch)
    watchlisted = _rotate_table(store, WatchlistRow, new_kid, actor=actor, batch=batch)
    return RotationReport(new_kid, voiceprints, watchlisted)


def _context(row: VoiceprintRow | WatchlistRow) -> bytes:
    if isinstance(row, VoiceprintRow):
        return sealing.context(VOICEPRINT, row.customer_id, row.model)
    return sealing.context(WATCHLIST, row.id, row.model)


def _pending(
    session: Session, table: type[VoiceprintRow] | type[WatchlistRow], new_kid: str, batch: int
) -> Sequence[VoiceprintRow | WatchlistRow]:
    """The next rows not yet under `new_kid`, locked (PostgreSQL) against concurrent saves."""
    if table is VoiceprintRow:
        return session.scalars(
            select(VoiceprintRow)
            .where(VoiceprintRow.key_id != new_kid)
            .order_by(VoiceprintRow.id)
            .limit(batch)
            .with_for_update()
        ).all()
    return session.scalars(
        select(WatchlistRow)
        .where(WatchlistRow.key_id != new_kid)
        .order_by(WatchlistRow.id)
        .limit(batch)
        .with_for_update()
    ).all()


def _rotate_table(
    store: VoiceprintStore,
    table: type[VoiceprintRow] | type[WatchlistRow],
    new_kid: str,
    *,
    actor: str,
    batch: int,
) -> int:
    total = 0
    while True:
        with store.transaction() as session:
            rows = _pending(session, table, new_kid, batch)
            if not rows:
                return total
            old = sorted({r.key_id for r in rows})
            for row in rows:
                row.sealed = sealing.rewrap(
                    store.keyring,
                    row.key_id,
                    row.sealed,
                    _context(row),
                    new_kid,
                    record=f"{table.__tablename__} {row.id!r}",
                )
                row.key_id = new_kid
            audit.append(
                session,
                at=store.now(),
                actor=actor,
                action="keys.rotate",
                customer_id=None,
                details={
                    "table": table.__tablename__,
                    "rows": len(rows),
                    "from_key_ids": old,
                    "to_key_id": new_kid,
                },
            )
            total += len(rows)
