"""LFCC-LR: a light countermeasure voiceauth trains itself (LFCC statistics, logistic regression).

The published detectors were trained on 2019 attacks at 16 kHz and generalise poorly to
today's clones on telephone audio. This one is trained on 8 kHz telephone-channel audio, from
the data at hand, by `liveness.train`: per-utterance LFCC statistics (`liveness.lfcc`), each
standardised, into a logistic regression whose log-odds (bona fide vs spoof) is the score.
It costs a few milliseconds per second of audio and its model is a small JSON file (data,
no pickle) that can be committed, reviewed and diffed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from voiceauth.liveness.base import file_version
from voiceauth.liveness.lfcc import LfccConfig, utterance_stats
from voiceauth.liveness.logistic import Linear, LinearCountermeasure, linear_fields
from voiceauth.liveness.modelfile import ModelFile

FORMAT_VERSION = 1
CM_ID = "lfcc-lr"


@dataclass(frozen=True, slots=True)
class LfccLrModel(ModelFile):
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
    kind: ClassVar[str] = CM_ID
    what: ClassVar[str] = f"a {CM_ID} model"
    current_format: ClassVar[int] = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.check_format()
        self.linear.check(CM_ID, self.lfcc.dimension)

    @property
    def linear(self) -> Linear:
        return Linear(self.mean, self.scale, self.weights, self.bias)

    def log_odds(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(n, dimension) utterance statistics -> (n,) bona-fide log-odds."""
        return self.linear.log_odds(features)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> dict[str, Any]:
        return linear_fields(data) | {"lfcc": LfccConfig(**data["lfcc"])}


class LfccLrCountermeasure(LinearCountermeasure):
    """`Countermeasure` over an `LfccLrModel`: (n,) float32 at the model's rate (8 kHz)."""

    def __init__(self, model: LfccLrModel, *, version: str, min_seconds: float = 0.5) -> None:
        super().__init__(
            cm_id=CM_ID,
            version=version,
            sample_rate=model.lfcc.sample_rate,
            min_seconds=min_seconds,
            linear=model.linear,
        )
        self._lfcc = model.lfcc

    @classmethod
    def load(cls, path: Path, *, min_seconds: float = 0.5) -> LfccLrCountermeasure:
        return cls(LfccLrModel.load(path), version=file_version(path), min_seconds=min_seconds)

    def features(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        return utterance_stats(samples, self._lfcc)
