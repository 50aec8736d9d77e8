"""The engine-level verification gate: consent first, then the voiceprint, then a score.

Every caller of the engine (the live call service, the agent desk, batch jobs) asks here, so
a customer without consent gets `no_consent` *before* any embedding of their voice exists, and
a customer with no voiceprint for the running model gets `not_enrolled`; both tell the caller
to fall back to non-biometric verification. Raw cosines stay inside the engine: with a
calibration the result carries an LLR for fusion (ARCHITECTURE: evidence is an LLR), scored by
the same `VoiceScorer` as live calls.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import Audio
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.base import Embedder, Vector, require_same_embedder
from voiceauth.errors import NoConsent
from voiceauth.store.service import VoiceprintStore
from voiceauth.verification.scorer import VoiceScorer

log = logging.getLogger(__name__)

DEFAULT_MIN_SPEECH_S = 3.0
"""ARCHITECTURE: 3 s of net speech before a first decision; shorter is unreliable."""


class VerificationOutcome(StrEnum):
    SCORED = "scored"
    NO_CONSENT = "no_consent"
    NOT_ENROLLED = "not_enrolled"
    COLLECTING = "collecting"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """score: cosine (AS-normed when the scorer has a cohort); llr: calibrated evidence
    (natural log) when the scorer has a calibration for that kind of score; both None unless
    `scored`."""

    outcome: VerificationOutcome
    model: str
    net_speech_s: float = 0.0
    score: float | None = None
    llr: float | None = None


class Verifier:
    """Scores a claimed customer's speech against their voiceprint of this embedder's model."""

    def __init__(
        self,
        store: VoiceprintStore,
        embedder: Embedder,
        *,
        scorer: VoiceScorer | None = None,
        min_speech_s: float = DEFAULT_MIN_SPEECH_S,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self.model = f"{embedder.embedder_id}@{embedder.version}"
        self._scorer = scorer if scorer is not None else VoiceScorer(self.model)
        require_same_embedder(self.model, self._scorer.model)
        self._min_samples = max(int(min_speech_s * embedder.sample_rate), embedder.min_samples)

    def verify_recordings(
        self,
        customer_id: str,
        recordings: Sequence[Audio],
        vad: SileroVad,
        *,
        actor: str,
        call_id: str | None = None,
    ) -> VerificationResult:
        """Verify from whole recordings; without consent the audio is not even cut by the VAD."""
        if not self._store.has_consent(customer_id):
            return VerificationResult(VerificationOutcome.NO_CONSENT, self.model)
        rate = self._embedder.sample_rate
        cuts = [extract_speech(a, vad, sample_rate=rate, min_speech_s=0.0) for a in recordings]
        speech = np.concatenate([c.samples for c in cuts]) if cuts else np.zeros(0, np.float32)
        return self.verify(
            customer_id,
            speech,
            actor=actor,
            call_id=call_id,
            snr_db=min((c.quality.snr_db for c in cuts), default=None),
        )

    def verify(
        self,
        customer_id: str,
        speech: Vector,
        *,
        actor: str,
        call_id: str | None = None,
        snr_db: float | None = None,
    ) -> VerificationResult:
        """speech: net speech (n,) float32 in [-1, 1] at the embedder's rate.

        Raises UnknownCustomer for an id not on file; everything else is an outcome.
        """
        net_s = len(speech) / self._embedder.sample_rate
        if not self._store.has_consent(customer_id):
            return VerificationResult(VerificationOutcome.NO_CONSENT, self.model, net_s)
        try:
            enrolled = self._store.load_voiceprint(
                customer_id, self.model, actor=actor, call_id=call_id
            )
        except NoConsent:  # withdrawn between the check and the load
            return VerificationResult(VerificationOutcome.NO_CONSENT, self.model, net_s)
        if enrolled is None:
            # Voiceprints of another model are never compared: re-enrol with this one.
            return VerificationResult(VerificationOutcome.NOT_ENROLLED, self.model, net_s)
        if len(speech) < self._min_samples:
            return VerificationResult(VerificationOutcome.COLLECTING, self.model, net_s)
        test = self._embedder.embed(np.asarray(speech, dtype=np.float32))
        require_same_embedder(enrolled.model, test.model)
        score, llr = self._scorer.score(
            test.vector,
            enrolled.vector,
            customer_id=customer_id,
            net_speech_s=net_s,
            snr_db=snr_db,
        )
        log.info("verified call %s against customer %s", call_id, customer_id)
        return VerificationResult(VerificationOutcome.SCORED, self.model, net_s, score, llr)
