"""The countermeasure a call service runs, its calibration, and the fusion fitted for the pair.

A countermeasure directory holds the detector's files and `calibration.json` (its scores as
LLRs, fitted for that very model on held-out scores). The fusion is the file under
models/fusion fitted for this voice model and this detector; without one, voice and liveness
are judged by their own thresholds (`calls.decision`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from voiceauth.calls.engine import Liveness
from voiceauth.errors import EmbedderMismatch
from voiceauth.fusion.model import SpoofAwareFusion
from voiceauth.liveness.base import (
    Countermeasure,
    create_countermeasure,
    load_countermeasure_calibration,
)
from voiceauth.liveness.gate import SpoofGate
from voiceauth.liveness.streaming import StreamingLiveness
from voiceauth.scoring.calibration import Calibration

log = logging.getLogger(__name__)

ENROL_LIVE_LLR = 0.0


def find_fusion(folder: Path, voice_model: str, cm_model: str) -> SpoofAwareFusion | None:
    """The fusion file in `folder` fitted for exactly these two models, if any."""
    for path in sorted(folder.glob("*.fusion.json")):
        fusion = SpoofAwareFusion.load(path)
        try:
            fusion.check_models(voice_model=voice_model, cm_model=cm_model)
        except EmbedderMismatch:
            continue
        return fusion
    return None


@dataclass(frozen=True, slots=True)
class LoadedCountermeasure:
    """A countermeasure with its calibration, loaded once for enrolment and for calls."""

    cm: Countermeasure
    calibration: Calibration

    @property
    def model(self) -> str:
        return f"{self.cm.cm_id}@{self.cm.version}"


def load_countermeasure(name: str, cm_dir: Path) -> LoadedCountermeasure:
    cm = create_countermeasure(name, weights_dir=cm_dir)
    return LoadedCountermeasure(cm, load_countermeasure_calibration(cm, cm_dir))


def liveness_for(loaded: LoadedCountermeasure, models_dir: Path, voice_model: str) -> Liveness:
    """Calls' liveness streams of a loaded countermeasure, with the fusion fitted for it."""
    fusion = find_fusion(models_dir / "fusion", voice_model, loaded.model)
    if fusion is None:
        log.warning(
            "no fusion fitted for %s with %s: voice and liveness judged apart",
            voice_model,
            loaded.model,
        )
    return Liveness(
        new_stream=lambda: StreamingLiveness(loaded.cm, loaded.calibration),
        sample_rate=loaded.cm.sample_rate,
        fusion=fusion,
    )


def call_liveness(name: str, cm_dir: Path, models_dir: Path, voice_model: str) -> Liveness:
    """Load countermeasure `name` from `cm_dir` for calls, with its calibration and fusion."""
    return liveness_for(load_countermeasure(name, cm_dir), models_dir, voice_model)


def enrolment_gate(loaded: LoadedCountermeasure, *, threshold: float = ENROL_LIVE_LLR) -> SpoofGate:
    """The countermeasure in front of enrolment: no voiceprint from speech it does not find at
    least as likely live as not (stricter than a call's `spoof` verdict: a voiceprint made
    from a clone would let the clone in on every later call)."""
    return SpoofGate(loaded.cm, threshold=threshold, calibration=loaded.calibration)
