"""From two embeddings to calibrated voice evidence: the one place a cosine becomes an LLR.

The batch `Verifier` and the live call service both score through this, so a call and an
offline check of the same speech give the same number (ARCHITECTURE: raw cosines never leave
scoring; the evidence is an LLR).
"""

from __future__ import annotations

import numpy as np

from voiceauth.embeddings.base import Vector, require_same_embedder
from voiceauth.errors import ConfigError
from voiceauth.index.cohort import CohortIndex
from voiceauth.scoring.asnorm import ASNorm
from voiceauth.scoring.calibration import Calibration, calibration_features
from voiceauth.scoring.cosine import cosine_pairs

UNKNOWN_SNR_DB = 30.0
"""Stands in for the SNR before any background was heard (a caller who talks without pause):
the clean-speech value, where the shipped calibrations' SNR term is near its training mean."""


class VoiceScorer:
    """Scores test embeddings of one model against voiceprints of the same model.

    Normalisation: a live cohort (follows enrolments and erasures) once it holds enough
    voiceprints, else a fixed AS-norm cohort, else plain cosine. Each kind of score has its own
    calibration (an AS-norm calibration applied to a cosine would be nonsense): `calibration`
    for normalised scores, `cosine_calibration` for plain cosine.
    """

    def __init__(
        self,
        model: str,
        *,
        calibration: Calibration | None = None,
        cosine_calibration: Calibration | None = None,
        asnorm: ASNorm | None = None,
        cohort: CohortIndex | None = None,
    ) -> None:
        for fitted in (calibration, cosine_calibration):
            if fitted is not None:
                fitted.check_model(model)
        if asnorm is not None and cohort is not None:
            raise ConfigError("scorer: give a fixed AS-norm cohort or a live one, not both")
        for normaliser in (asnorm, cohort):
            if normaliser is not None:
                require_same_embedder(model, normaliser.model)
        self.model = model
        self._calibration = calibration
        self._cosine_calibration = cosine_calibration
        self._asnorm = asnorm
        self._cohort = cohort

    def score(
        self,
        test: Vector,
        enrolled: Vector,
        *,
        customer_id: str,
        net_speech_s: float,
        snr_db: float | None = None,
    ) -> tuple[float, float | None]:
        """(score, llr) of a test vector against the customer's voiceprint; llr None when the
        kind of score used has no calibration."""
        if self._cohort is not None and self._cohort.ready:
            score = self._cohort.score(test, enrolled, customer_id=customer_id)
            calibration = self._calibration
        elif self._asnorm is not None:
            score = float(self._asnorm.score_pairs(test[None], enrolled[None])[0])
            calibration = self._calibration
        else:
            score = float(cosine_pairs(np.atleast_2d(test), np.atleast_2d(enrolled))[0])
            calibration = self._cosine_calibration
        if calibration is None:
            return score, None
        snr = UNKNOWN_SNR_DB if snr_db is None else snr_db
        features = calibration_features(score, net_speech_s, snr)
        return score, float(calibration.llr(features))
