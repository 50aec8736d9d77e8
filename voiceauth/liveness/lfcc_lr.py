"""LFCC-LR: a light countermeasure voiceauth trains itself (LFCC statistics, logistic regression).

The published detectors were trained on 2019 attacks at 16 kHz and generalise poorly to
today's clones on telephone audio. This one is trained on 8 kHz telephone-channel audio, from
the data at hand, by `liveness.train`: per-utterance LFCC statistics (`liveness.lfcc`), each
standardised, into a logistic regression whose log-odds (bona fide vs spoof) is the score.
It costs a few milliseconds per second of audio and its model is a small JSON file (data,
no pickle) that can be committed, reviewed and diffed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceauth.audio.io import validate_pcm
from voiceauth.errors import ConfigError, InsufficientSpeech, ModelNotFound
from voiceauth.liveness.lfcc import LfccConfig, utterance_stats

FORMAT_VERSION = 1
CM_ID = "lfcc-lr"


@dataclass(frozen=True, slots=True)
class LfccLrModel:
    """Standardiser (mean, scale) and logistic weights over `LfccConfig.dimension` features.

    trained_on: what data and channel it was fitted on; created: ISO date from the caller.
    """

    lfcc: LfccConfig
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    trained_on: str
    created: str
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.format_version != FORMAT_VERSION:
            raise ConfigError(f"{CM_ID} format_version {self.format_version!r} unknown")
        size = self.lfcc.dimension
        lengths = {len(self.mean), len(self.scale), len(self.weights)}
        if lengths != {size}:
            raise ConfigError(f"{CM_ID} model needs {size} means, scales and weights")
        if not all(np.isfinite([*self.mean, *self.scale, *self.weights, self.bias])):
            raise ConfigError(f"{CM_ID} model has non-finite parameters")
        if min(self.scale) <= 0:
            raise ConfigError(f"{CM_ID} model scales must be positive")

    def log_odds(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(n, dimension) utterance statistics -> (n,) bona-fide log-odds."""
        z = (features - np.array(self.mean)) / np.array(self.scale)
        return np.asarray(z @ np.array(self.weights) + self.bias, dtype=np.float64)

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LfccLrModel:
        """Read a model JSON; a missing file raises ModelNotFound, a bad one ConfigError."""
        source = Path(path)
        if not source.is_file():
            raise ModelNotFound(
                f"{CM_ID} model not found: {source}; train one with `voiceauth train-cm`"
            )
        try:
            data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
            data["lfcc"] = LfccConfig(**data["lfcc"])
            for key in ("mean", "scale", "weights"):
                data[key] = tuple(data[key])
            return cls(**data)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{source} is not a {CM_ID} model: {exc}") from exc


class LfccLrCountermeasure:
    """`Countermeasure` over an `LfccLrModel`: (n,) float32 at the model's rate (8 kHz)."""

    def __init__(self, model: LfccLrModel, *, version: str, min_seconds: float = 0.5) -> None:
        self._model = model
        self._version = version
        self._min_samples = round(min_seconds * model.lfcc.sample_rate)

    @classmethod
    def load(cls, path: Path, *, min_seconds: float = 0.5) -> LfccLrCountermeasure:
        model = LfccLrModel.load(path)
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return cls(model, version=version, min_seconds=min_seconds)

    @property
    def cm_id(self) -> str:
        return CM_ID

    @property
    def version(self) -> str:
        return self._version

    @property
    def sample_rate(self) -> int:
        return self._model.lfcc.sample_rate

    @property
    def min_samples(self) -> int:
        return self._min_samples

    def score(self, samples: npt.NDArray[np.float32]) -> float:
        return self.score_batch([samples])[0]

    def score_batch(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[float]:
        if not batch:
            return []
        stats = []
        for samples in batch:
            checked = validate_pcm(samples, self.sample_rate)
            if len(checked) < self._min_samples:
                raise InsufficientSpeech(
                    len(checked) / self.sample_rate, self._min_samples / self.sample_rate
                )
            stats.append(utterance_stats(checked, self._model.lfcc))
        return [float(s) for s in self._model.log_odds(np.stack(stats))]
