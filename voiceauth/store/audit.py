"""Append-only, hash-chained audit log: who did what to whose data, without biometric content.

GDPR Art. 5(2) (accountability) and Art. 30 (records of processing) ask the controller to
show what happened to personal data; a voiceprint store must also show that nobody quietly
rewrote that history. Each entry's hash is SHA-256 over the canonical JSON of its fields
(seq, at, actor, action, customer_id, details) followed by the previous entry's hash, so
changing, deleting or reordering any entry breaks every link after it. Truncating the tail,
or rewriting the whole log with fresh hashes, leaves a valid chain: `verify_chain` compares it
with a head recorded outside the database (`anchor.AuditAnchor`) to catch that too.

Details must never contain embeddings, audio, keys or evidence text: `append` refuses values
that are not JSON scalars, lists or string-keyed objects, and callers pass metadata only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from voiceauth.errors import AuditChainBroken, StoreError
from voiceauth.store.clock import utc
from voiceauth.store.records import AuditEntry, ChainHead
from voiceauth.store.tables import AuditRow

GENESIS_HASH = "0" * 64
AUDIT_LOCK_ID = 0x766F696365617564
"""PostgreSQL advisory lock ("voiceaud") serialising appends: two writers never race for a seq."""
MAX_DETAILS_CHARS = 4096
VERIFY_BATCH = 1000
HEAD = "voiceauth.audit_head"
"""`Session.info` key of the last entry appended in the session's transaction."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, no NaN: the same bytes for the same value, on any backend."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    customer_id: str | None,
    details: str,
    prev_hash: str,
) -> str:
    """SHA-256 hex over the entry's canonical JSON followed by the previous hash."""
    body = canonical_json(
        {
            "seq": seq,
            "at": utc(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "customer_id": customer_id,
            "details": details,
        }
    )
    return hashlib.sha256((body + prev_hash).encode("utf-8")).hexdigest()


def row_hash(row: AuditRow, prev_hash: str) -> str:
    """The hash a stored entry must carry when it follows `prev_hash`."""
    return entry_hash(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        customer_id=row.customer_id,
        details=row.details,
        prev_hash=prev_hash,
    )


def _check_details(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | int | float | str):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_details(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise StoreError(f"audit details {path}: key {key!r} is not a string")
            _check_details(item, f"{path}.{key}")
        return
    raise StoreError(
        f"audit details {path}: {type(value).__name__} is not allowed (JSON metadata only; "
        "never embeddings, audio or keys)"
    )


def _lock(session: Session) -> None:
    """Serialise appenders on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    customer_id: str | None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry in the caller's transaction, so it commits or rolls back with the change."""
    payload = dict(details or {})
    _check_details(payload, "details")
    details_text = canonical_json(payload)
    if len(details_text) > MAX_DETAILS_CHARS:
        raise StoreError(f"audit details: {len(details_text)} chars > {MAX_DETAILS_CHARS}")
    _lock(session)
    last = session.execute(
        select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    at = utc(at)
    digest = entry_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        customer_id=customer_id,
        details=details_text,
        prev_hash=prev_hash,
    )
    session.info[HEAD] = ChainHead(seq, digest)
    session.add(
        AuditRow(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            customer_id=customer_id,
            details=details_text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    return AuditEntry(seq, at, actor, action, customer_id, payload, prev_hash, digest)


def to_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.customer_id,
        json.loads(row.details),
        row.prev_hash,
        row.hash,
    )


def verify_chain(session: Session, anchor: ChainHead | None = None) -> ChainHead:
    """Check every link from the first entry; AuditChainBroken names the first bad one.

    Detects an entry whose fields were changed (its hash no longer matches), a deleted entry
    (a gap in seq), and reordered entries (the stored prev_hash no longer is the hash before);
    with the `anchor` kept outside the database, also a truncated tail (the chain ends before
    the anchored seq) and a log rewritten with fresh hashes (another hash at the anchored seq).
    """
    expected_seq, prev_hash = 1, GENESIS_HASH
    after = 0
    while True:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(VERIFY_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                raise AuditChainBroken(expected_seq, f"entry missing (next stored is {row.seq})")
            if row.prev_hash != prev_hash:
                raise AuditChainBroken(row.seq, "prev_hash does not match the entry before")
            if row_hash(row, row.prev_hash) != row.hash:
                raise AuditChainBroken(row.seq, "content does not match its hash")
            if anchor is not None and row.seq == anchor.seq and row.hash != anchor.hash:
                raise AuditChainBroken(
                    row.seq,
                    "hash differs from the one anchored outside the database: the log "
                    "was rewritten",
                )
            expected_seq, prev_hash = row.seq + 1, row.hash
        after = rows[-1].seq
        session.expunge_all()
    # Appends commit in seq order (the append lock is held to commit), so the entries visible
    # now up to `after` are exactly those read, however many others committed meanwhile.
    total = session.scalar(select(func.count()).where(AuditRow.seq <= after)) or 0
    if after != total:
        raise AuditChainBroken(expected_seq, "entry count does not match the chain")
    if anchor is not None and after < anchor.seq:
        raise AuditChainBroken(
            after + 1,
            f"the log ends at entry {after} but entry {anchor.seq} was anchored outside the "
            "database: entries were cut off, or the database was restored from an older backup",
        )
    return ChainHead(after, prev_hash)
