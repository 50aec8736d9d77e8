"""`CallOutcome`: what is kept of a call once it ends, for the KPI report and across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One finished call, without biometric data or customer identity (data minimisation)."""

    call_id: str
    transport: str
    started_at: datetime  # timezone-aware UTC
    ended_at: datetime
    dnis: str | None  # the service line dialled
    identified: bool  # a customer was claimed (caller-ID, keypad or IVR)
    voice_state: str  # final VoiceState value: collecting, match, mismatch, spoof,
    #                   not_enrolled, no_consent
    level: int  # final verification level (0..4 with the default policy)
    route: str  # final route, e.g. self_service, agent_no_security_questions, step_up,
    #             agent_unauthenticated, fraud_queue
    factors_verified: tuple[str, ...]  # e.g. ("pin", "otp", "eid")
    verified_after_s: float | None  # seconds from call start to the first level >= 2
    decided_after_speech_s: float | None  # net speech when the voice decision was announced
    end_reason: str | None  # e.g. "hangup", "ended by platform", "shutdown"
