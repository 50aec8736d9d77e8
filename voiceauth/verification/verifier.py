"""The engine-level verification gate: consent first, then the voiceprint, then a score.

Every caller of the engine (the live call service, the agent desk, batch jobs) asks here, so
a customer without consent gets `no_consent` *before* any embedding of their voice exists, and
a customer with no voiceprint for the running model gets `not_enrolled`; both tell the caller
to fall back to non-biometric verification. Raw cosines stay inside the engine: with a
`Calibration` the result carries an LLR for fusion (ARCHITECTURE: evidence is an LLR).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from voiceauth.embeddings.base import Embedder, Vector, require_same_embedder
from voiceauth.errors import ConfigError, NoConsent
from voiceauth.index.cohort import CohortIndex
from voiceauth.scoring.asnorm import ASNorm
from voiceauth.scoring.calibration import Calibration, calibration_features
from voiceauth.scoring.cosine import cosine_pairs
from voiceauth.store.service import VoiceprintStore

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
    """score: cosine (AS-normed when a fixed or live cohort is configured); llr: calibrated
    evidence (natural log) when a calibration is configured; both None unless `scored`."""

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
        calibration: Calibration | None = None,
        asnorm: ASNorm | None = None,
        cohort: CohortIndex | None = None,
        min_speech_s: float = DEFAULT_MIN_SPEECH_S,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self.model = f"{embedder.embedder_id}@{embedder.version}"
        if calibration is not None:
            calibration.check_model(self.model)
        if asnorm is not None and cohort is not None:
            raise ConfigError("verifier: give a fixed AS-norm cohort or a live one, not both")
        for normaliser in (asnorm, cohort):
            if normaliser is not None:
                require_same_embedder(self.model, normaliser.model)
        self._calibration = calibration
        self._asnorm = asnorm
        self._cohort = cohort
        self._min_samples = max(int(min_speech_s * embedder.sample_rate), embedder.min_samples)

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
        except NoConsent:
            return VerificationResult(VerificationOutcome.NO_CONSENT, self.model, net_s)
        if enrolled is None:
            # Voiceprints of another model are never compared: re-enrol with this one.
            return VerificationResult(VerificationOutcome.NOT_ENROLLED, self.model, net_s)
        if len(speech) < self._min_samples:
            return VerificationResult(VerificationOutcome.COLLECTING, self.model, net_s)
        test = self._embedder.embed(np.asarray(speech, dtype=np.float32))
        require_same_embedder(enrolled.model, test.model)
        if self._cohort is not None:
            score = self._cohort.score(test.vector, enrolled.vector, customer_id=customer_id)
        elif self._asnorm is not None:
            score = float(self._asnorm.score_pairs(test.vector[None], enrolled.vector[None])[0])
        else:
            score = float(cosine_pairs(test.vector[None], enrolled.vector[None])[0])
        llr = None
        if self._calibration is not None:
            features = calibration_features(score, net_s, snr_db)
            llr = float(self._calibration.llr(features))
        log.info("verified call %s against customer %s", call_id, customer_id)
        return VerificationResult(VerificationOutcome.SCORED, self.model, net_s, score, llr)
