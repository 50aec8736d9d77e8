"""What spoof-aware fusion answers: an outcome, the fused LLR, and reasons an agent can read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """accept: the enrolled customer, live. reject: not them (or too doubtful). spoof: the
    countermeasure is clearly against, a replay or clone (routed to fraud, not a mere reject).
    undecided: between the thresholds; more speech may settle it (sequential decision)."""

    ACCEPT = "accept"
    REJECT = "reject"
    SPOOF = "spoof"
    UNDECIDED = "undecided"


VOICE_MATCHES = "voice matches the enrolled customer"
VOICE_DIFFERS = "voice does not match the enrolled customer"
VOICE_PENDING = "voice score pending"
VOICE_RESEMBLES = "voice resembles the enrolled customer, as a clone of them would"
LIVE = "liveness check: sounds live"
SYNTHETIC = "liveness check: looks synthetic or replayed"
DOUBTFUL = "liveness check: doubtful, the voice may be synthetic or replayed"
LIVENESS_PENDING = "liveness check pending"
NOT_CLEAR = "evidence not yet clear: keep listening"


@dataclass(frozen=True, slots=True)
class FusedDecision:
    """outcome; score: fused LLR (natural log, target against non-target or spoof), None before
    any voice score; reasons: plain words for the agent desk, most important first."""

    outcome: Outcome
    score: float | None
    reasons: tuple[str, ...]
