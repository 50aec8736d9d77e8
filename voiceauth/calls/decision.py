"""The sequential voice decision of a live call: announce only when the evidence is clear.

A decision waits for the minimum net speech, then for the calibrated voice LLR to cross the
accept or the reject threshold; in between the state stays `collecting` and more speech is
heard. Liveness is checked beside it: a countermeasure LLR clearly against (below
`spoof_llr`) is a `spoof` whatever the voice says, and a match is only announced once liveness
has had its say (ARCHITECTURE: a spoof verdict routes to the fraud queue). Pure: numbers in,
state and reasons out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from voiceauth.calls.snapshot import VoiceState
from voiceauth.errors import ConfigError
from voiceauth.fusion.decision import (
    DOUBTFUL,
    LIVE,
    LIVENESS_PENDING,
    NOT_CLEAR,
    SYNTHETIC,
    VOICE_DIFFERS,
    VOICE_MATCHES,
    VOICE_PENDING,
    VOICE_RESEMBLES,
    Outcome,
)
from voiceauth.fusion.model import SpoofAwareFusion

DEFAULT_ACCEPT_LLR = 2.3
"""Natural log of 10, used when no thresholds file was fitted for the model."""
DEFAULT_REJECT_LLR = -2.3
"""Natural log of 1/10: the claim is ten times less likely than not."""
DEFAULT_SPOOF_LLR = -2.3


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    """accept_llr: voice LLR at or above which the caller matches (from a thresholds file:
    the calibrated threshold for the operating false-match rate); reject_llr: at or below which
    they do not; spoof_llr: countermeasure LLR at or below which the speech is judged not live;
    live_llr: the countermeasure LLR a match needs (by default live must be at least as likely
    as not: a voice that matches but sounds doubtful keeps the call listening, since a clone
    is exactly a voice that matches);
    require_liveness: no match before a liveness score exists (when a countermeasure runs)."""

    accept_llr: float = DEFAULT_ACCEPT_LLR
    reject_llr: float = DEFAULT_REJECT_LLR
    spoof_llr: float = DEFAULT_SPOOF_LLR
    live_llr: float = 0.0
    min_speech_s: float = 3.0
    require_liveness: bool = True

    def __post_init__(self) -> None:
        if not self.spoof_llr <= self.live_llr:
            raise ConfigError(f"live_llr ({self.live_llr}) must not be below spoof_llr")
        if not self.reject_llr < self.accept_llr:
            raise ConfigError(
                f"reject_llr ({self.reject_llr}) must be below accept_llr ({self.accept_llr})"
            )
        if self.min_speech_s <= 0:
            raise ConfigError(f"min_speech_s must be positive, got {self.min_speech_s}")

    @classmethod
    def from_thresholds(
        cls, path: Path, *, fmr: str = "fmr_0.01", **overrides: float
    ) -> DecisionPolicy:
        """Accept at the LLR threshold a thresholds file (models/calibration) gives for `fmr`."""
        data = json.loads(path.read_text())
        try:
            accept = float(data["thresholds"][fmr])
        except KeyError as exc:
            raise ConfigError(f"{path}: no threshold {fmr!r}") from exc
        return cls(accept_llr=accept, **overrides)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Verdict:
    state: VoiceState
    reasons: tuple[str, ...]


OUTCOME_STATES = {
    Outcome.ACCEPT: VoiceState.MATCH,
    Outcome.REJECT: VoiceState.MISMATCH,
    Outcome.SPOOF: VoiceState.SPOOF,
    Outcome.UNDECIDED: VoiceState.COLLECTING,
}


def decide(
    policy: DecisionPolicy,
    *,
    voice_llr: float | None,
    liveness_llr: float | None,
    net_speech_s: float,
    liveness_expected: bool,
    fusion: SpoofAwareFusion | None = None,
) -> Verdict:
    """The voice state for the evidence so far (claim, consent and enrolment already checked).

    With a spoof-aware fusion (learned on held-out trials) voice and liveness are judged
    together by it; without one, each by its own threshold.
    """
    if net_speech_s < policy.min_speech_s:
        return Verdict(
            VoiceState.COLLECTING,
            (f"collecting speech: {net_speech_s:.1f} of {policy.min_speech_s:.0f} s",),
        )
    if fusion is not None:
        fused = fusion.decide(voice_llr, liveness_llr)
        voice_against = voice_llr is not None and voice_llr <= policy.reject_llr
        if fused.outcome is Outcome.UNDECIDED and voice_against:
            return Verdict(VoiceState.MISMATCH, (VOICE_DIFFERS,))  # the voice alone settles it
        return Verdict(OUTCOME_STATES[fused.outcome], fused.reasons)
    if liveness_llr is not None and liveness_llr <= policy.spoof_llr:
        return Verdict(VoiceState.SPOOF, (SYNTHETIC,))
    if voice_llr is None:
        return Verdict(VoiceState.COLLECTING, (VOICE_PENDING,))
    if voice_llr <= policy.reject_llr:
        return Verdict(VoiceState.MISMATCH, (VOICE_DIFFERS,))
    if voice_llr >= policy.accept_llr:
        if liveness_expected and policy.require_liveness and liveness_llr is None:
            return Verdict(VoiceState.COLLECTING, (VOICE_MATCHES, LIVENESS_PENDING))
        if liveness_llr is not None and liveness_llr < policy.live_llr:
            return Verdict(VoiceState.COLLECTING, (VOICE_RESEMBLES, DOUBTFUL))
        reasons = [VOICE_MATCHES]
        if liveness_llr is not None:
            reasons.append(LIVE)
        return Verdict(VoiceState.MATCH, tuple(reasons))
    return Verdict(VoiceState.COLLECTING, (NOT_CLEAR,))
