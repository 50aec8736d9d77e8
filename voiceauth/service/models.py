"""What the call engine needs beyond the embedder, found for the running embedder's model.

Calibrations and thresholds are per model (models/calibration/<embedder>-telephony.*): a
model without them still runs, but says so in every call's reasons instead of deciding on
uncalibrated numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voiceauth.calls.decision import DecisionPolicy
from voiceauth.errors import EmbedderMismatch
from voiceauth.scoring.calibration import Calibration

CHANNEL = "telephony"


@dataclass(frozen=True, slots=True)
class VoiceModels:
    calibration: Calibration | None
    cosine_calibration: Calibration | None
    policy: DecisionPolicy


def _calibration(path: Path, model: str) -> Calibration | None:
    if not path.is_file():
        return None
    calibration = Calibration.load(path)
    try:
        calibration.check_model(model)
    except EmbedderMismatch:
        return None
    return calibration


def voice_models(models_dir: Path, model: str) -> VoiceModels:
    """The shipped calibrations and decision policy for `model` ("id@version"), if any."""
    base = models_dir / "calibration" / f"{model.split('@')[0]}-{CHANNEL}"
    normalised = _calibration(base.with_name(base.name + ".calibration.json"), model)
    cosine = _calibration(base.with_name(base.name + "-cosine.calibration.json"), model)
    thresholds = base.with_name(base.name + "-cosine.thresholds.json")
    policy = (
        DecisionPolicy.from_thresholds(thresholds)
        if cosine and thresholds.is_file()
        else DecisionPolicy()
    )
    return VoiceModels(normalised, cosine, policy)
