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

from voiceauth.audio.io import validate_pcm
from voiceauth.errors import ConfigError, InsufficientSpeech, ModelNotFound
from voiceauth.scoring.calibration import Calibration

COUNTERMEASURES = ("aasist", "aasist-l", "lfcc-lr", "lcnn", "whisper-lr", "ensemble")
MODEL_FILES = {
    "aasist": "AASIST.pth",
    "aasist-l": "AASIST-L.pth",
    "lfcc-lr": "lfcc-lr.json",
    "lcnn": "lcnn.safetensors",
    "whisper-lr": "whisper-lr.json",
    "ensemble": "ensemble.json",
}
SHIPPED = ("lcnn", "whisper-lr", "ensemble")
"""The countermeasures voiceauth trains and ships under models/liveness/ (each has a card)."""
DEFAULT_COUNTERMEASURE = "ensemble"
"""The one a service runs unless told otherwise: the shipped LCNN and Whisper-LR weighed."""
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


class Detector:
    """What voiceauth's countermeasure classes share: who they are, what input they take, and
    the check that refuses input they cannot judge. A subclass supplies `score_batch`."""

    def __init__(self, *, cm_id: str, version: str, sample_rate: int, min_samples: int) -> None:
        self._cm_id = cm_id
        self._version = version
        self._sample_rate = sample_rate
        self._min_samples = min_samples

    @property
    def cm_id(self) -> str:
        return self._cm_id

    @property
    def version(self) -> str:
        return self._version

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def min_samples(self) -> int:
        return self._min_samples

    def score(self, samples: npt.NDArray[np.float32]) -> float:
        """Bona-fide-positive score of one input."""
        return self.score_batch([samples])[0]

    def score_batch(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[float]:
        raise NotImplementedError

    def checked(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The samples validated (AudioFormatError) and long enough (InsufficientSpeech)."""
        valid = validate_pcm(samples, self._sample_rate)
        if len(valid) < self._min_samples:
            raise InsufficientSpeech(
                len(valid) / self._sample_rate, self._min_samples / self._sample_rate
            )
        return valid


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
    config.json; whisper-lr.json, over the installed Whisper weights), or an ensemble of
    those (`voiceauth combine-cm`: ensemble.json naming its members' folders). Nothing is
    looked up implicitly: a service passes its configured folder or
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
            version=file_version(path),
            min_seconds=min_seconds,
            batch_size=batch_size,
        )
    if name == "lfcc-lr":
        from voiceauth.liveness.lfcc_lr import LfccLrCountermeasure

        return LfccLrCountermeasure.load(path, min_seconds=min_seconds)
    if name == "ensemble":
        from voiceauth.liveness.ensemble import load_ensemble

        return load_ensemble(weights_dir, min_seconds=min_seconds, batch_size=batch_size)
    if name == "whisper-lr":
        from voiceauth.liveness.whisper_lr import WhisperLrCountermeasure

        return WhisperLrCountermeasure.load(path, min_seconds=min_seconds)
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
        version=file_version(path),
        sample_rate=SAMPLE_RATE,
        window=WINDOW_SAMPLES,
        min_samples=round(min_seconds * SAMPLE_RATE),
        batch_size=batch_size,
    )


def file_version(path: Path) -> str:
    """A model's version: the first 12 hex digits of its weights file's sha256."""
    if not path.is_file():
        raise ModelNotFound(f"countermeasure weights not found: {path}")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def default_countermeasure_dir(
    root: Path | None = None, *, name: str = DEFAULT_COUNTERMEASURE
) -> Path:
    """models/liveness/<name> of the checkout this package runs from (or of `root`): one of
    SHIPPED, by default the one a service runs.

    The shipped models live in the repository, not in the wheel; an installed (non-editable)
    package has no such folder, so a service passes its own (VOICEAUTH_CM_DIR) instead.
    Raises ModelNotFound naming the folder when it holds no model.
    """
    base = root if root is not None else Path(__file__).resolve().parents[2]
    folder = base / "models" / "liveness" / name
    if name not in SHIPPED or not (folder / MODEL_FILES[name]).is_file():
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
