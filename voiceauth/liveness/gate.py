"""The enrolment spoof gate: a countermeasure behind the enrolment hook's call shape.

Enrolling a voice clone would let its maker pass as the customer from then on, so the
`Enroller` asks a `voiceauth.enrolment.Countermeasure` for a verdict before it stores any
voiceprint. This adapter answers that question with any `liveness.Countermeasure`: it brings
the speech to the detector's rate, scores it, optionally maps the score to a calibrated LLR
(a `scoring.Calibration` fitted for this detector on the feature `cm_score`), and calls it a
spoof below the threshold. The threshold is an explicit argument: it belongs to the deployment
policy and says where it came from, never a constant hidden here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceauth.audio.resample import resample
from voiceauth.enrolment.countermeasure import SpoofVerdict
from voiceauth.liveness.base import Countermeasure
from voiceauth.scoring.calibration import Calibration

CM_SCORE_FEATURE = "cm_score"
"""The calibration feature name under which a countermeasure's raw score is passed."""


class SpoofGate:
    """`gate(speech, sample_rate) -> SpoofVerdict`: spoof when the evidence is below threshold.

    threshold: on the calibrated LLR when a calibration is given (natural log, bona fide vs
    spoof), else on the raw countermeasure score. The verdict carries the LLR only when it is
    one (calibrated). Speech shorter than the detector's minimum raises InsufficientSpeech:
    the gate never passes what it could not judge.
    """

    def __init__(
        self,
        cm: Countermeasure,
        *,
        threshold: float,
        calibration: Calibration | None = None,
    ) -> None:
        if calibration is not None:
            calibration.check_model(f"{cm.cm_id}@{cm.version}")
        self._cm = cm
        self._threshold = threshold
        self._calibration = calibration

    def __call__(self, speech: npt.NDArray[np.float32], sample_rate: int) -> SpoofVerdict:
        score = self._cm.score(resample(speech, sample_rate, self._cm.sample_rate))
        if self._calibration is None:
            return SpoofVerdict(spoof=score < self._threshold)
        llr = float(self._calibration.llr({CM_SCORE_FEATURE: score}))
        return SpoofVerdict(spoof=llr < self._threshold, llr=llr)
