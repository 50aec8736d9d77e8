"""One-time codes: 6 random digits sent to the customer's registered SMS number or e-mail.

A code comes from `secrets` (uniform over 000000-999999), is stored only as HMAC-SHA256 under
a server key (`otp_key`) bound to its id, customer and call, so a database dump reveals no
code and a code is useless in another call; it expires (5 min by default), is used once, and
is burnt after 3 wrong tries. A call may ask for at most `max_sends` codes (each send burns the
previous one), which bounds both the guesses per call and the SMS bill an attacker can run
up. Every send and check is audited with the code's id, never the code, and never the address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from voiceauth.errors import InvalidRecord
from voiceauth.factors.notifier import CHANNELS, Channel, Message, Notifier, NotifierError
from voiceauth.store import audit, validate
from voiceauth.store.core import StoreCore, customer_row
from voiceauth.store.tables import CustomerRow, OtpCodeRow, OtpDestinationRow

if TYPE_CHECKING:  # metrics imports this module's vocabulary
    from voiceauth.factors.metrics import FactorMetrics

CODE_DIGITS = 6
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
SUBJECT = "Your verification code"


class OtpOutcome(StrEnum):
    """Why a check ended as it did: for the audit log, never for the caller."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    NO_CODE = "no_code"


class SendOutcome(StrEnum):
    SENT = "sent"
    NO_DESTINATION = "no_destination"
    LIMIT = "limit"


UNDELIVERED = "undelivered"
"""A send whose notifier failed (the code is burnt): raised as NotifierError, counted as this."""


@dataclass(frozen=True, slots=True)
class OtpSettings:
    ttl: timedelta = timedelta(minutes=5)
    attempts: int = 3
    max_sends: int = 3


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def destination(channel: str, address: str) -> tuple[Channel, str]:
    """A checked destination: an E.164 number for SMS, an address for e-mail."""
    if channel == "sms":
        return "sms", validate.phone(address)
    if channel == "email" and EMAIL.match(address):
        return "email", address
    raise InvalidRecord(
        f"OTP destination: need channel one of {', '.join(CHANNELS)} and an address"
    )


class OneTimeCodes:
    """Issue, deliver and check one-time codes; `notifiers` by channel."""

    def __init__(
        self,
        store: StoreCore,
        *,
        key: bytes,
        notifiers: Mapping[str, Notifier],
        settings: OtpSettings | None = None,
        text: str = "Your verification code is {code}. It expires in {minutes} minutes.",
        metrics: FactorMetrics | None = None,
    ) -> None:
        if len(key) < 16:
            raise InvalidRecord("OTP key: need at least 16 bytes")
        self._store = store
        self._key = key
        self._notifiers = dict(notifiers)
        self.settings = settings or OtpSettings()
        self._text = text
        self._metrics = metrics

    def _count(self, event: str) -> None:
        if self._metrics is not None:
            self._metrics.otp(event)

    def _digest(self, code_id: str, customer_id: str, call_id: str, code: str) -> str:
        message = "\x1f".join((code_id, customer_id, call_id, code)).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def set_destination(self, customer_id: str, channel: str, address: str, *, actor: str) -> None:
        kind, checked = destination(channel, address)
        now = self._store.now()
        with self._store.transaction() as session:
            customer_row(session, customer_id)
            row = session.get(OtpDestinationRow, customer_id)
            if row is None:
                session.add(
                    OtpDestinationRow(
                        customer_id=customer_id, channel=kind, address=checked, updated_at=now
                    )
                )
            else:
                row.channel, row.address, row.updated_at = kind, checked, now
            audit.append(
                session,
                at=now,
                actor=actor,
                action="otp.destination",
                customer_id=customer_id,
                details={"channel": kind},
            )

    async def send(self, customer_id: str | None, *, call_id: str, actor: str) -> SendOutcome:
        """Issue a code for the call's customer and deliver it; NotifierError if delivery failed
        (the code is then burnt)."""
        code = new_code()
        code_id = uuid.uuid4().hex
        now = self._store.now()
        with self._store.transaction() as session:
            found = None if customer_id is None else session.get(OtpDestinationRow, customer_id)
            sent = 0 if found is None else _sent(session, found.customer_id, call_id)
            if (
                found is None
                or sent >= self.settings.max_sends
                or found.channel not in self._notifiers
            ):
                outcome = (
                    SendOutcome.NO_DESTINATION
                    if found is None or found.channel not in self._notifiers
                    else SendOutcome.LIMIT
                )
                if customer_id is not None and session.get(CustomerRow, customer_id) is not None:
                    audit.append(
                        session,
                        at=now,
                        actor=actor,
                        action="otp.send",
                        customer_id=customer_id,
                        details={"call_id": call_id, "outcome": outcome.value},
                    )
                self._count(outcome)
                return outcome
            cid, address = found.customer_id, found.address
            channel: Channel = "sms" if found.channel == "sms" else "email"
            _burn_open(session, cid, call_id, now)
            session.add(
                OtpCodeRow(
                    id=code_id,
                    customer_id=cid,
                    call_id=call_id,
                    digest=self._digest(code_id, cid, call_id, code),
                    created_at=now,
                    expires_at=now + self.settings.ttl,
                    failures=0,
                    used_at=None,
                )
            )
            audit.append(
                session,
                at=now,
                actor=actor,
                action="otp.send",
                customer_id=cid,
                details={
                    "call_id": call_id,
                    "code_id": code_id,
                    "channel": channel,
                    "outcome": SendOutcome.SENT.value,
                },
            )
        minutes = max(1, round(self.settings.ttl.total_seconds() / 60))
        text = self._text.format(code=code, minutes=minutes)
        try:
            await self._notifiers[channel].send(Message(channel, address, SUBJECT, text))
        except NotifierError:
            with self._store.transaction() as session:
                _burn_open(session, cid, call_id, self._store.now())
                audit.append(
                    session,
                    at=self._store.now(),
                    actor=actor,
                    action="otp.undelivered",
                    customer_id=cid,
                    details={"call_id": call_id, "code_id": code_id, "channel": channel},
                )
            self._count(UNDELIVERED)
            raise
        self._count(SendOutcome.SENT)
        return SendOutcome.SENT

    def check(self, customer_id: str | None, code: str, *, call_id: str, actor: str) -> OtpOutcome:
        """Check `code` against the call's open code; a match uses it up."""
        now = self._store.now()
        with self._store.transaction() as session:
            row = None
            if customer_id is not None:
                row = session.scalars(
                    select(OtpCodeRow)
                    .where(
                        OtpCodeRow.customer_id == customer_id,
                        OtpCodeRow.call_id == call_id,
                        OtpCodeRow.used_at.is_(None),
                    )
                    .order_by(OtpCodeRow.created_at.desc())
                    .with_for_update()
                ).first()
            expected = self._digest("" if row is None else row.id, customer_id or "", call_id, code)
            matched = hmac.compare_digest(expected, "" if row is None else row.digest)
            if row is None:
                outcome = OtpOutcome.NO_CODE
            elif now >= row.expires_at:
                outcome = OtpOutcome.EXPIRED
            elif matched and _use(session, row.id, now):
                outcome = OtpOutcome.VERIFIED
            else:
                row.failures += 1
                outcome = OtpOutcome.MISMATCH
                if row.failures >= self.settings.attempts:
                    row.used_at = now
                    outcome = OtpOutcome.EXHAUSTED
            known = customer_id is not None and session.get(CustomerRow, customer_id) is not None
            if known:
                audit.append(
                    session,
                    at=now,
                    actor=actor,
                    action="otp.check",
                    customer_id=customer_id,
                    details={
                        "call_id": call_id,
                        "code_id": None if row is None else row.id,
                        "outcome": outcome.value,
                    },
                )
        self._count(outcome)
        return outcome


def _sent(session: Session, customer_id: str, call_id: str) -> int:
    query = select(func.count()).where(
        OtpCodeRow.customer_id == customer_id, OtpCodeRow.call_id == call_id
    )
    return int(session.scalar(query) or 0)


def _burn_open(session: Session, customer_id: str, call_id: str, now: datetime) -> None:
    session.execute(
        update(OtpCodeRow)
        .where(
            OtpCodeRow.customer_id == customer_id,
            OtpCodeRow.call_id == call_id,
            OtpCodeRow.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def _use(session: Session, code_id: str, now: datetime) -> bool:
    """Mark the code used, only if nobody else did first (single use even without row locks)."""
    result = session.execute(
        update(OtpCodeRow)
        .where(OtpCodeRow.id == code_id, OtpCodeRow.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1
