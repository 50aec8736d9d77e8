"""Request and response bodies (pydantic at the edge; the store's dataclasses inside)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from voiceauth.enrolment import EnrolmentResult
from voiceauth.store import (
    Consent,
    ConsentChannel,
    Customer,
    ErasureReport,
    RetentionReport,
    VoiceprintInfo,
    WatchlistEntry,
)
from voiceauth.verification import VerificationOutcome, VerificationResult


class CustomerIn(BaseModel):
    customer_id: str | None = Field(None, description="the bank's id; random when omitted")
    phones: list[str] = Field(default_factory=list, description="E.164 numbers for ANI lookup")
    eid_hint: str | None = None


class CustomerOut(BaseModel):
    id: str
    status: str
    eid_hint: str | None
    phones: list[str]
    created_at: datetime

    @classmethod
    def of(cls, c: Customer) -> CustomerOut:
        return cls(
            id=c.id,
            status=c.status.value,
            eid_hint=c.eid_hint,
            phones=list(c.phones),
            created_at=c.created_at,
        )


class ConsentIn(BaseModel):
    text_version: str = Field(description="version of the consent text agreed to")
    channel: ConsentChannel
    evidence: str = Field(description="proof: DTMF key in call X, agent confirmation, form id")


class ConsentOut(BaseModel):
    id: str
    purpose: str
    text_version: str
    channel: ConsentChannel
    granted_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, c: Consent) -> ConsentOut:
        return cls(
            id=c.id,
            purpose=c.purpose,
            text_version=c.text_version,
            channel=c.channel,
            granted_at=c.granted_at,
            withdrawn_at=c.withdrawn_at,
        )


class ErasureOut(BaseModel):
    customer_id: str
    voiceprints: int
    consents: int
    phones: int

    @classmethod
    def of(cls, r: ErasureReport) -> ErasureOut:
        return cls(
            customer_id=r.customer_id,
            voiceprints=r.voiceprints,
            consents=r.consents,
            phones=r.phones,
        )


class VoiceprintOut(BaseModel):
    model: str
    net_speech_s: float
    snr_db: float | None
    source_calls: int
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, v: VoiceprintInfo) -> VoiceprintOut:
        return cls(
            model=v.model,
            net_speech_s=v.net_speech_s,
            snr_db=v.snr_db,
            source_calls=len(v.source_call_ids),
            created_at=v.created_at,
            updated_at=v.updated_at,
            last_used_at=v.last_used_at,
        )


class EnrolmentOut(BaseModel):
    outcome: str = Field(description="enrolled, no_consent, insufficient_speech, low_quality, ...")
    reason: str
    stored: bool
    net_speech_s: float

    @classmethod
    def of(cls, r: EnrolmentResult) -> EnrolmentOut:
        return cls(
            outcome=r.outcome.value,
            reason=r.reason,
            stored=r.stored,
            net_speech_s=round(r.net_speech_s, 2),
        )


class VerificationOut(BaseModel):
    outcome: VerificationOutcome = Field(
        description="scored; or no_consent / not_enrolled (fall back to non-biometric "
        "verification), collecting (less than the minimum net speech)"
    )
    model: str = Field(description="embedder@version the speech was (or would be) scored with")
    net_speech_s: float
    llr: float | None = Field(
        description="calibrated voice evidence (natural log); null unless scored with a "
        "calibration configured. Raw scores are not given out"
    )

    @classmethod
    def of(cls, r: VerificationResult) -> VerificationOut:
        return cls(
            outcome=r.outcome, model=r.model, net_speech_s=round(r.net_speech_s, 2), llr=r.llr
        )


class RetentionIn(BaseModel):
    unused_days: int = Field(ge=1, description="delete voiceprints unused for this many days")


class RetentionOut(BaseModel):
    unused_since: datetime
    voiceprints_deleted: int

    @classmethod
    def of(cls, r: RetentionReport) -> RetentionOut:
        return cls(unused_since=r.unused_since, voiceprints_deleted=len(r.expired))


class WatchlistOut(BaseModel):
    id: str
    model: str
    reason: str
    case_id: str
    created_at: datetime

    @classmethod
    def of(cls, w: WatchlistEntry) -> WatchlistOut:
        return cls(
            id=w.id, model=w.model, reason=w.reason, case_id=w.case_id, created_at=w.created_at
        )


Export = dict[str, Any]
