"""The calibration files shipped for a model (models/calibration/<embedder>-telephony.*).

Calibrations are per model: a file fitted for another version is not used, and a model with
none still scores but gives no LLR (callers then say so instead of deciding on raw cosines).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voiceauth.errors import EmbedderMismatch
from voiceauth.scoring.calibration import Calibration

CHANNEL = "telephony"


@dataclass(frozen=True, slots=True)
class ShippedCalibrations:
    normalised: Calibration | None
    """For AS-normed scores."""
    cosine: Calibration | None
    """For plain cosine (a deployment whose cohort is still too small for AS-norm)."""
    thresholds: Path | None
    """LLR thresholds for target false-match rates, beside the cosine calibration."""


def _matching(path: Path, model: str) -> Calibration | None:
    if not path.is_file():
        return None
    calibration = Calibration.load(path)
    try:
        calibration.check_model(model)
    except EmbedderMismatch:
        return None
    return calibration


def shipped_calibrations(models_dir: Path, model: str) -> ShippedCalibrations:
    """What `models_dir` holds for `model` ("id@version")."""
    stem = f"{model.split('@')[0]}-{CHANNEL}"
    folder = models_dir / "calibration"
    cosine = _matching(folder / f"{stem}-cosine.calibration.json", model)
    thresholds = folder / f"{stem}-cosine.thresholds.json"
    return ShippedCalibrations(
        normalised=_matching(folder / f"{stem}.calibration.json", model),
        cosine=cosine,
        thresholds=thresholds if cosine is not None and thresholds.is_file() else None,
    )
