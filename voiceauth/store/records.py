"""What the store hands out: frozen dataclasses, never SQLAlchemy rows.

Rows are bound to a session and lazy-load on attribute access; handing them out would let
callers trigger queries (or see stale data) outside the transaction that read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class CustomerStatus(StrEnum):
    """Whether biometric verification may be attempted for the customer at all."""

    ACTIVE = "active"
    LOCKED = "locked"


class ConsentChannel(StrEnum):
    """How the explicit consent was given (GDPR Art. 9(2)(a); evidence per Art. 7(1))."""

    IVR_DTMF = "ivr_dtmf"
    AGENT = "agent"
    WEB = "web"
    APP = "app"
    WRITTEN = "written"


VOICE_BIOMETRICS = "voice_biometrics"
"""The one processing purpose consents are collected for (GDPR Art. 5(1)(b) purpose limitation)."""


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    status: CustomerStatus
    eid_hint: str | None
    phones: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Consent:
    id: str
    customer_id: str
    purpose: str
    text_version: str
    channel: ConsentChannel
    evidence: str
    granted_at: datetime
    withdrawn_at: datetime | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True, slots=True)
class VoiceprintInfo:
    """A voiceprint's metadata; the embedding itself only comes out of `load_voiceprint`."""

    customer_id: str
    model: str
    key_id: str
    net_speech_s: float
    snr_db: float | None
    source_call_ids: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """A known fraudster's voiceprint metadata (the sealed vector stays in the store)."""

    id: str
    model: str
    key_id: str
    reason: str
    case_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    customer_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """How many rows of each kind an erasure or withdrawal deleted."""

    customer_id: str
    voiceprints: int
    consents: int
    phones: int


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last audit entry; keep it outside the database to detect truncation of the log."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """Which voiceprints a retention run deleted, (customer id, model) pairs, and how many
    call outcomes."""

    unused_since: datetime
    expired: tuple[tuple[str, str], ...]
    call_outcomes_deleted: int = 0
