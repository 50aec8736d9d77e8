"""A standardised logistic regression: the back end of voiceauth's feature countermeasures,
and what they share (the detector around it, how their JSON holds it).

LFCC-LR and Whisper-LR differ in their features only: each utterance becomes one vector,
standardised by the training set's mean and scale, and a class-balanced L2 logistic
regression turns it into bona-fide log-odds. The parameters are plain numbers, stored in
each model's JSON (data, no pickle), so they can be committed, reviewed and diffed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from voiceauth.errors import ConfigError
from voiceauth.liveness.base import Detector

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Linear:
    """Standardiser (mean, scale) and logistic weights and bias, all of one length."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def check(self, cm_id: str, size: int) -> None:
        """ConfigError unless there are `size` finite parameters of each kind, scales > 0."""
        if {len(self.mean), len(self.scale), len(self.weights)} != {size}:
            raise ConfigError(f"{cm_id} model needs {size} means, scales and weights")
        if not all(np.isfinite([*self.mean, *self.scale, *self.weights, self.bias])):
            raise ConfigError(f"{cm_id} model has non-finite parameters")
        if min(self.scale) <= 0:
            raise ConfigError(f"{cm_id} model scales must be positive")

    def log_odds(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(n, size) utterance features -> (n,) bona-fide log-odds."""
        z = (features - np.array(self.mean)) / np.array(self.scale)
        return np.asarray(z @ np.array(self.weights) + self.bias, dtype=np.float64)


def fit_linear(
    features: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], *, regularisation: float
) -> Linear:
    """Standardise, then fit a class-balanced L2 logistic regression (label 1 = bona fide)."""
    mean = features.mean(axis=0)
    scale = np.maximum(features.std(axis=0), 1e-8)
    fitted = LogisticRegression(C=regularisation, class_weight="balanced", max_iter=5000)
    fitted.fit((features - mean) / scale, labels)
    return Linear(
        mean=_floats(mean),
        scale=_floats(scale),
        weights=_floats(fitted.coef_[0]),
        bias=float(fitted.intercept_[0]),
    )


def _floats(values: Sequence[float] | npt.NDArray[np.float64]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


class LinearCountermeasure(Detector):
    """A `Countermeasure` that turns each utterance into one feature vector (`features`, the
    one thing a subclass supplies) and weighs it with a `Linear`."""

    def __init__(
        self, *, cm_id: str, version: str, sample_rate: int, min_seconds: float, linear: Linear
    ) -> None:
        super().__init__(
            cm_id=cm_id,
            version=version,
            sample_rate=sample_rate,
            min_samples=round(min_seconds * sample_rate),
        )
        self._linear = linear

    def features(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        raise NotImplementedError

    def score_batch(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[float]:
        if not batch:
            return []
        rows = [self.features(self.checked(samples)) for samples in batch]
        return [float(s) for s in self._linear.log_odds(np.stack(rows))]


def linear_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A model JSON's mean, scale and weights lists as the tuples `Linear` holds."""
    return data | {key: tuple(data[key]) for key in ("mean", "scale", "weights")}
