"""What an enrolment attempt ends in: one outcome per reason, so callers can act on it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voiceauth.store.records import VoiceprintInfo


class EnrolmentOutcome(StrEnum):
    """`enrolled`/`refined` store a voiceprint; every other outcome stores nothing."""

    ENROLLED = "enrolled"
    REFINED = "refined"
    NO_CONSENT = "no_consent"
    NOT_ENROLLED = "not_enrolled"
    INSUFFICIENT_SPEECH = "insufficient_speech"
    LOW_QUALITY = "low_quality"
    INCONSISTENT_SPEAKER = "inconsistent_speaker"
    SPOOF = "spoof"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A failed gate: the outcome and a reason for the operator (never for the caller's side)."""

    outcome: EnrolmentOutcome
    reason: str


@dataclass(frozen=True, slots=True)
class EnrolmentResult:
    """The result of one attempt; `voiceprint` is set exactly when one was stored.

    net_speech_s: speech the attempt had; min_window_cosine: the consistency gate's lowest
    leave-one-out cosine (None when the gate did not run).
    """

    outcome: EnrolmentOutcome
    reason: str
    net_speech_s: float = 0.0
    min_window_cosine: float | None = None
    voiceprint: VoiceprintInfo | None = None

    @property
    def stored(self) -> bool:
        return self.voiceprint is not None
