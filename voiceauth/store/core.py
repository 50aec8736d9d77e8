"""`StoreCore`: the database, keyring, clock and audit anchor every store operation shares.

Each public store operation is one transaction (`StoreCore.transaction`) that also appends its
audit entry, so the change and its record commit together or not at all. After the commit the
chain's new head goes to the anchor outside the database (`anchor.AuditAnchor`), if the store
has one. A database that cannot be reached (PostgreSQL restarting, SQLite locked past its busy
timeout) is a `StoreUnavailable` error the caller may retry (a transaction whose connection
dropped is rolled back by the server, unless it dropped during the commit itself). Pooled
connections are checked before use (`pool_pre_ping`), so once the server is back the next
operation succeeds without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from voiceauth.errors import (
    ConfigError,
    StoreError,
    StoreUnavailable,
    TamperedData,
    UnknownCustomer,
)
from voiceauth.store import audit
from voiceauth.store.anchor import AuditAnchor
from voiceauth.store.clock import Clock, system_clock, utc
from voiceauth.store.engine import make_engine
from voiceauth.store.keyring import Keyring
from voiceauth.store.records import AuditEntry, ChainHead
from voiceauth.store.tables import AuditRow, ConsentRow, CustomerRow, VoiceprintRow

log = logging.getLogger(__name__)

VOICEPRINT = "voiceprint"
"""Associated-data kind of customer voiceprints (see `sealing.context`)."""


class StoreCore:
    """One database (SQLite file or PostgreSQL) with its keyring, clock and audit anchor.

    The schema must exist (`voiceauth.store.schema.upgrade`). `keyring` seals new voiceprints
    under its active key and opens older ones under the key they name; `clock` gives every
    time the store records; `anchor`, if given, keeps the audit chain's head outside the
    database.
    """

    def __init__(
        self,
        engine: Engine | str,
        keyring: Keyring,
        *,
        clock: Clock = system_clock,
        anchor: AuditAnchor | None = None,
    ) -> None:
        self._engine = make_engine(engine) if isinstance(engine, str) else engine
        self._owns_engine = isinstance(engine, str)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self.keyring = keyring
        self.clock = clock
        self.anchor = anchor

    def close(self) -> None:
        """Release the connection pool if the store created its engine."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> StoreCore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session, one transaction: committed on success, rolled back on any error."""
        try:
            with self._sessions() as session:
                with session.begin():
                    yield session
                head: ChainHead | None = session.info.pop(audit.HEAD, None)
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable(
                f"database unavailable ({error.orig}): the operation was not confirmed; "
                "retry once the database is back"
            ) from error
        if head is not None and self.anchor is not None:
            try:
                self.anchor.advance(head)
            except (OSError, StoreError):
                # The change is committed; a lagging anchor is still a valid lower bound.
                log.exception("audit anchor %s not advanced to %d", self.anchor.path, head.seq)

    def now(self) -> datetime:
        return utc(self.clock())

    def audit_entries(self, customer_id: str | None = None) -> list[AuditEntry]:
        """Audit entries in order, all or those about one customer."""
        with self.transaction() as session:
            query = select(AuditRow).order_by(AuditRow.seq)
            if customer_id is not None:
                query = query.where(AuditRow.customer_id == customer_id)
            return [audit.to_entry(r) for r in session.scalars(query)]

    def audit_entries_after(self, seq: int, *, limit: int = 1000) -> list[AuditEntry]:
        """Entries committed after `seq`, oldest first: how other replicas follow changes."""
        with self.transaction() as session:
            query = select(AuditRow).where(AuditRow.seq > seq).order_by(AuditRow.seq).limit(limit)
            return [audit.to_entry(r) for r in session.scalars(query)]

    def audit_head(self) -> int:
        """The last committed entry's sequence number (0 for an empty log)."""
        with self.transaction() as session:
            return int(session.scalar(select(func.max(AuditRow.seq))) or 0)

    def verify_audit_chain(self) -> ChainHead:
        """Check the whole hash chain, and against the anchor if the store has one.

        Raises AuditChainBroken at the first bad entry, TamperedData for a forged anchor.
        The anchor is read first: it can only trail what the database has committed.
        """
        anchored = None if self.anchor is None else self.anchor.read()
        with self.transaction() as session:
            return audit.verify_chain(session, anchored)

    def reanchor_audit(self, *, actor: str) -> ChainHead:
        """Accept the database's chain as it is now as the new anchor, and audit that.

        For a deliberate restore of the database from a backup, which leaves the chain behind
        the anchor. The chain must still be intact in itself; the entry records the anchored
        seq it replaced (None if the anchor was missing or unreadable).
        """
        if self.anchor is None:
            raise ConfigError("this store keeps no audit anchor: nothing to re-anchor")
        try:
            previous = self.anchor.read()
        except TamperedData:
            previous = None
        with self.transaction() as session:
            audit.verify_chain(session)
            entry = audit.append(
                session,
                at=self.now(),
                actor=actor,
                action="audit.reanchor",
                customer_id=None,
                details={"replaced_seq": None if previous is None else previous.seq},
            )
        head = ChainHead(entry.seq, entry.hash)
        self.anchor.replace(head)
        return head


def customer_row(session: Session, customer_id: str) -> CustomerRow:
    """The customer's row; UnknownCustomer if there is none."""
    row = session.get(CustomerRow, customer_id)
    if row is None:
        raise UnknownCustomer(customer_id)
    return row


def active_consent(
    session: Session, customer_id: str, purpose: str, *, lock: bool = False
) -> ConsentRow | None:
    """The active consent; `lock` holds it (PostgreSQL) so a withdrawal waits for our commit."""
    query = select(ConsentRow).where(
        ConsentRow.customer_id == customer_id,
        ConsentRow.purpose == purpose,
        ConsentRow.withdrawn_at.is_(None),
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def voiceprint_row(session: Session, customer_id: str, model: str) -> VoiceprintRow | None:
    return session.scalars(
        select(VoiceprintRow).where(
            VoiceprintRow.customer_id == customer_id, VoiceprintRow.model == model
        )
    ).first()
