"""A call's state as everyone outside the engine sees it: the API, the live streams, the
webhook and the platform's own result fields.

Agents and platforms get the voice state, a confidence figure and reasons; `platform_fields`
is the coarse subset that may travel back into an IVR flow, where a caller could infer it, so
it carries no score (ARCHITECTURE: the caller learns nothing).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from voiceauth.fusion.levels import Assessment


class VoiceState(StrEnum):
    COLLECTING = "collecting"
    MATCH = "match"
    MISMATCH = "mismatch"
    SPOOF = "spoof"
    NOT_ENROLLED = "not_enrolled"
    NO_CONSENT = "no_consent"


DECIDED = frozenset({VoiceState.MATCH, VoiceState.MISMATCH, VoiceState.SPOOF})


def confidence(llr: float | None) -> float | None:
    """Posterior that the claim is true at even prior odds: a figure an agent can read."""
    if llr is None:
        return None
    return 1.0 / (1.0 + math.exp(-max(min(llr, 50.0), -50.0)))


@dataclass(frozen=True, slots=True)
class CallSnapshot:
    """decided_after_*: audio and net speech received when the first decision was announced.

    voice_llr: calibrated voice evidence (natural log); liveness_llr: calibrated countermeasure
    evidence, bona fide positive; both None until there is enough speech. factors_verified,
    assessment (level and route) and verified_after_s (seconds from the start to the first
    verified level) come from the call's other evidence (`calls.assess`).
    """

    call_id: str
    transport: str
    voice_state: VoiceState
    ani: str | None = None
    dnis: str | None = None
    customer_id: str | None = None
    voice_llr: float | None = None
    liveness_llr: float | None = None
    net_speech_s: float = 0.0
    audio_s: float = 0.0
    reasons: tuple[str, ...] = ()
    decided_after_audio_s: float | None = None
    decided_after_speech_s: float | None = None
    speaker_changed: bool = False
    watchlist_hit: bool = False
    dtmf: str = ""
    ended: bool = False
    end_reason: str | None = None
    started_at: datetime | None = None
    factors_verified: tuple[str, ...] = ()
    assessment: Assessment | None = None
    verified_after_s: float | None = None

    @property
    def confidence(self) -> float | None:
        return confidence(self.voice_llr)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for agents and the API (dtmf digits stay inside: they may be a PIN)."""
        data = asdict(self)
        data.pop("dtmf")
        data.pop("assessment")
        data["voice_state"] = self.voice_state.value
        data["reasons"] = list(self.reasons)
        data["confidence"] = self.confidence
        data["started_at"] = self.started_at.isoformat() if self.started_at else None
        data["factors_verified"] = list(self.factors_verified)
        data["level"] = None if self.assessment is None else _level(self.assessment)
        return data

    def platform_fields(self) -> dict[str, str]:
        """String fields for a platform's flow variables (AudioHook outputVariables): no scores.
        The level and route are what the flow routes on."""
        fields = {
            "voiceauthState": self.voice_state.value,
            "voiceauthVerified": str(self.voice_state is VoiceState.MATCH).lower(),
            "voiceauthFraudSuspected": str(
                self.voice_state is VoiceState.SPOOF or self.watchlist_hit
            ).lower(),
        }
        if self.assessment is not None:
            fields["voiceauthLevel"] = str(self.assessment.level)
            fields["voiceauthRoute"] = self.assessment.route
        return fields


def _level(assessment: Assessment) -> dict[str, Any]:
    return {
        "level": assessment.level,
        "name": assessment.name,
        "route": assessment.route,
        "reasons": list(assessment.reasons),
    }
