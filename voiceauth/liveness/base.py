"""The one countermeasure protocol, and the factory that maps a name to a loaded detector.

A countermeasure (presentation-attack detector, ISO/IEC 30107-1) says how much a recording
looks like a live human voice rather than a replay or a synthetic one. Every backend exposes
the same few members, so that evaluation, enrolment and the call engine can swap them, and a
score is always bona-fide-positive: higher means more likely a live speaker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from voiceauth.errors import ConfigError, ModelNotFound
from voiceauth.scoring.calibration import Calibration

COUNTERMEASURES = ("aasist", "aasist-l", "lfcc-lr", "lcnn")
MODEL_FILES = {
    "aasist": "AASIST.pth",
    "aasist-l": "AASIST-L.pth",
    "lfcc-lr": "lfcc-lr.json",
    "lcnn": "lcnn.safetensors",
}
DEFAULT_COUNTERMEASURE = "lcnn"
"""The countermeasure voiceauth trains and ships under models/liveness/ (see its model card)."""
CALIBRATION_FILE = "calibration.json"
"""A shipped countermeasure's score-to-LLR calibration, beside its weights."""
DEFAULT_MIN_SECONDS = 0.5
"""Shortest input scored at all. Decisions should wait for 3 s of speech (published detectors
need 3-5 s, see ARCHITECTURE.md); this floor only refuses fragments that window repetition
would turn into a score about the repetition."""


@runtime_checkable
class Countermeasure(Protocol):
    """What every spoofing detector exposes.

    `score` takes (n,) float32 samples in [-1, 1] at `sample_rate` Hz and returns a
    bona-fide-positive, log-odds-like score (uncalibrated until a calibration maps it to an
    LLR). It raises AudioFormatError for empty or non-finite input and InsufficientSpeech below
    `min_samples`; it never returns NaN.
    """

    @property
    def cm_id(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def min_samples(self) -> int: ...

    def score(self, samples: npt.NDArray[np.float32]) -> float: ...

    def score_batch(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[float]: ...


def create_countermeasure(
    name: str,
    *,
    weights_dir: Path | None = None,
    min_seconds: float = DEFAULT_MIN_SECONDS,
    batch_size: int = 8,
) -> Countermeasure:
    """Load the countermeasure `name` (one of COUNTERMEASURES); models load here, never at import.

    weights_dir holds the model file: the published state_dicts (AASIST.pth, AASIST-L.pth) or
    a model trained by `voiceauth train-cm` (lfcc-lr.json; lcnn.safetensors with its
    config.json). Nothing is looked up implicitly: a service passes its configured folder or
    `default_countermeasure_dir()`, and tests pass ../shared/models/aasist.
    """
    if name not in COUNTERMEASURES:
        raise ConfigError(
            f"unknown countermeasure {name!r}; choose one of {', '.join(COUNTERMEASURES)}"
        )
    if weights_dir is None:
        raise ModelNotFound(
            f"no weights directory given for countermeasure {name!r}: pass the folder that "
            f"holds {MODEL_FILES[name]} (for development: ../shared/models/aasist)"
        )
    path = weights_dir / MODEL_FILES[name]
    if name == "lcnn":
        from voiceauth.liveness.lcnn import lcnn_countermeasure, load_lcnn

        return lcnn_countermeasure(
            load_lcnn(weights_dir),
            version=_sha256_prefix(path),
            min_seconds=min_seconds,
            batch_size=batch_size,
        )
    if name == "lfcc-lr":
        from voiceauth.liveness.lfcc_lr import LfccLrCountermeasure

        return LfccLrCountermeasure.load(path, min_seconds=min_seconds)
    from voiceauth.liveness.aasist import (
        AASIST,
        AASIST_L,
        SAMPLE_RATE,
        WINDOW_SAMPLES,
        load_aasist,
    )
    from voiceauth.liveness.windowed import WindowedCountermeasure

    net = load_aasist(path, AASIST if name == "aasist" else AASIST_L)
    return WindowedCountermeasure(
        net,
        cm_id=name,
        version=_sha256_prefix(path),
        sample_rate=SAMPLE_RATE,
        window=WINDOW_SAMPLES,
        min_samples=round(min_seconds * SAMPLE_RATE),
        batch_size=batch_size,
    )


def _sha256_prefix(path: Path) -> str:
    """A model's version: the first 12 hex digits of its weights file's sha256."""
    if not path.is_file():
        raise ModelNotFound(f"countermeasure weights not found: {path}")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def default_countermeasure_dir(root: Path | None = None) -> Path:
    """models/liveness/lcnn of the checkout this package runs from (or of `root`).

    The shipped model lives in the repository, not in the wheel; an installed (non-editable)
    package has no such folder, so a service passes its own (VOICEAUTH_CM_DIR) instead.
    Raises ModelNotFound naming the folder when it holds no weights.
    """
    base = root if root is not None else Path(__file__).resolve().parents[2]
    folder = base / "models" / "liveness" / DEFAULT_COUNTERMEASURE
    if not (folder / MODEL_FILES[DEFAULT_COUNTERMEASURE]).is_file():
        raise ModelNotFound(
            f"no shipped countermeasure in {folder}: run from a voiceauth checkout or "
            "configure the countermeasure folder explicitly"
        )
    return folder


def load_countermeasure_calibration(cm: Countermeasure, weights_dir: Path) -> Calibration:
    """The calibration shipped beside cm's weights, checked to be fitted for this very model
    (`cm_id@version`); its feature is `cm_score` (see `liveness.gate.CM_SCORE_FEATURE`)."""
    path = weights_dir / CALIBRATION_FILE
    if not path.is_file():
        raise ModelNotFound(f"countermeasure calibration not found: {path}")
    calibration = Calibration.load(path)
    calibration.check_model(f"{cm.cm_id}@{cm.version}")
    return calibration
