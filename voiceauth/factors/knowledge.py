"""Knowledge factors: set a PIN, date of birth or security answer; verify one in a call.

Values are normalised (`normalise`) and stored as argon2id hashes (`hashing`) only. A verify
is one transaction: lock the call's, the customer's and the ANI's counters (`limits`), check
the value (always one argon2 verify, against a decoy when the customer, the factor or a lock
is in the way), count the failure or clear the customer's failures, and audit the attempt
and any lockout. The audit says what happened (verified, mismatch, locked, not enrolled) for
the fraud team; the caller's side gets only verified or not (`KnowledgeCheck.verified`).
Audit entries never hold the value, and never the ANI (a phone number outlives an erasure in
the log otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceauth.errors import InvalidRecord
from voiceauth.factors import limits
from voiceauth.factors.hashing import SecretHasher
from voiceauth.factors.limits import AttemptLimits, Scope
from voiceauth.factors.normalise import normalise_answer, normalise_dob, normalise_pin
from voiceauth.store import audit
from voiceauth.store.core import StoreCore, customer_row
from voiceauth.store.tables import CustomerRow, FactorCounterRow, KnowledgeFactorRow

if TYPE_CHECKING:  # metrics imports this module's vocabulary
    from voiceauth.factors.metrics import FactorMetrics

LABEL_LENGTH = 64


class KnowledgeKind(StrEnum):
    PIN = "pin"
    DOB = "dob"
    ANSWER = "answer"


class Outcome(StrEnum):
    """Why an attempt ended as it did: for the audit log, never for the caller."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"
    NOT_ENROLLED = "not_enrolled"
    NO_CUSTOMER = "no_customer"


NORMALISERS: dict[KnowledgeKind, Callable[[str], str]] = {
    KnowledgeKind.PIN: normalise_pin,
    KnowledgeKind.DOB: normalise_dob,
    KnowledgeKind.ANSWER: normalise_answer,
}


@dataclass(frozen=True, slots=True)
class KnowledgeCheck:
    outcome: Outcome
    newly_locked: tuple[Scope, ...] = ()

    @property
    def verified(self) -> bool:
        return self.outcome is Outcome.VERIFIED


@dataclass(frozen=True, slots=True)
class KnowledgeFactorInfo:
    """What an agent may see of a factor: that it exists, not its value."""

    kind: KnowledgeKind
    label: str
    updated_at: datetime


def label_of(kind: KnowledgeKind, label: str | None) -> str:
    """Answers need their question's label; PIN and date of birth have none."""
    if kind is not KnowledgeKind.ANSWER:
        return ""
    if not label or len(label) > LABEL_LENGTH or not label.isprintable():
        raise InvalidRecord(f"security answer: need a question label of 1..{LABEL_LENGTH} chars")
    return label


def _factor(
    session: Session, customer_id: str, kind: KnowledgeKind, label: str
) -> KnowledgeFactorRow | None:
    return session.scalars(
        select(KnowledgeFactorRow).where(
            KnowledgeFactorRow.customer_id == customer_id,
            KnowledgeFactorRow.kind == kind.value,
            KnowledgeFactorRow.label == label,
        )
    ).first()


class KnowledgeFactors:
    """Knowledge factors over the store's database, audited in its chain."""

    def __init__(
        self,
        store: StoreCore,
        *,
        hasher: SecretHasher | None = None,
        limits: AttemptLimits | None = None,
        metrics: FactorMetrics | None = None,
    ) -> None:
        self._store = store
        self._hasher = hasher or SecretHasher()
        self.limits = limits or AttemptLimits()
        self._metrics = metrics

    def set_factor(
        self,
        customer_id: str,
        kind: KnowledgeKind,
        value: str,
        *,
        actor: str,
        label: str | None = None,
    ) -> None:
        """Enrol or replace a factor; clears the customer's lockout (a reset after the agent or
        admin re-established who the customer is)."""
        question = label_of(kind, label)
        digest = self._hasher.hash(NORMALISERS[kind](value))  # outside the transaction: CPU
        now = self._store.now()
        with self._store.transaction() as session:
            customer_row(session, customer_id)
            row = _factor(session, customer_id, kind, question)
            replaced = row is not None
            if row is None:
                session.add(
                    KnowledgeFactorRow(
                        customer_id=customer_id,
                        kind=kind.value,
                        label=question,
                        digest=digest,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                row.digest, row.updated_at = digest, now
            counter = session.get(FactorCounterRow, (Scope.CUSTOMER.value, customer_id))
            if counter is not None:
                limits.clear(counter, now)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="factor.set",
                customer_id=customer_id,
                details={"kind": kind.value, "label": question, "replaced": replaced},
            )

    def factors(self, customer_id: str) -> list[KnowledgeFactorInfo]:
        """The customer's factors (kind, question label, last change), no values."""
        with self._store.transaction() as session:
            customer_row(session, customer_id)
            rows = session.scalars(
                select(KnowledgeFactorRow)
                .where(KnowledgeFactorRow.customer_id == customer_id)
                .order_by(KnowledgeFactorRow.kind, KnowledgeFactorRow.label)
            )
            return [KnowledgeFactorInfo(KnowledgeKind(r.kind), r.label, r.updated_at) for r in rows]

    def verify(
        self,
        customer_id: str | None,
        kind: KnowledgeKind,
        value: str,
        *,
        call_id: str,
        ani: str | None,
        actor: str,
        label: str | None = None,
    ) -> KnowledgeCheck:
        """Check `value` for the call's claimed customer, within the attempt limits."""
        try:
            candidate: str | None = NORMALISERS[kind](value)
            question = label_of(kind, label)
        except InvalidRecord:
            candidate, question = None, ""
        now = self._store.now()
        with self._store.transaction() as session:
            customer = None if customer_id is None else session.get(CustomerRow, customer_id)
            known = None if customer is None else customer.id
            counters = limits.lock(session, limits.subjects(call_id, known, ani), now)
            blocked = any(limits.locked(c, now) for c in counters)
            factor = None if known is None else _factor(session, known, kind, question)
            usable = factor if (candidate is not None and not blocked) else None
            matched = self._hasher.verify(
                None if usable is None else usable.digest, candidate or value
            )
            if matched and usable is not None:
                outcome = Outcome.VERIFIED
                if self._hasher.needs_rehash(usable.digest) and candidate is not None:
                    usable.digest = self._hasher.hash(candidate)
            elif blocked:
                outcome = Outcome.LOCKED
            elif known is None:
                outcome = Outcome.NO_CUSTOMER
            elif factor is None:
                outcome = Outcome.NOT_ENROLLED
            else:
                outcome = Outcome.MISMATCH
            newly_locked: list[Scope] = []
            for counter in counters:
                scope = Scope(counter.scope)
                if outcome is Outcome.VERIFIED:
                    if scope is Scope.CUSTOMER:
                        limits.clear(counter, now)
                elif outcome is not Outcome.LOCKED and limits.fail(counter, self.limits, now):
                    newly_locked.append(scope)
            # Audit after every row change: the audit lock is always taken last (no deadlock).
            audit.append(
                session,
                at=now,
                actor=actor,
                action="factor.verify",
                customer_id=known,
                details={
                    "kind": kind.value,
                    "label": question,
                    "call_id": call_id,
                    "outcome": outcome.value,
                },
            )
            for scope in newly_locked:
                audit.append(
                    session,
                    at=now,
                    actor=actor,
                    action="factor.lockout",
                    customer_id=known,
                    details={
                        "scope": scope.value,
                        "call_id": call_id,
                        "until": (now + (self.limits.lockout)).isoformat(timespec="seconds"),
                    },
                )
            check = KnowledgeCheck(outcome, tuple(newly_locked))
        if self._metrics is not None:  # once committed: a rolled-back attempt never happened
            self._metrics.knowledge(kind, check)
        return check
