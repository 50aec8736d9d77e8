"""Calibration of scores to log-likelihood ratios, with duration and quality as side features.

Fusion adds evidence as LLRs, so a score must become log p(score | same) / p(score | different).
Linear logistic regression does that (Brümmer & du Preez, "Application-independent evaluation
of speaker detection", 2006; the FoCal/BOSARIS recipe): with both classes weighted to an
effective prior of 0.5, the fitted log-odds *is* the LLR, and minimising the weighted logistic
loss minimises Cllr. Net speech and SNR enter as extra features because short or noisy calls
give less trustworthy scores (quality measure functions, as in WeSpeaker's QMF calibration).

Fit on trials disjoint from those used to evaluate, on telephone audio, per embedder: the
file records the embedder (`model`) and `check_model` refuses any other.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from voiceauth.errors import ConfigError, EmbedderMismatch

Array = npt.NDArray[np.float64]

FEATURE_SCORE = "score"
FEATURE_LOG_SPEECH = "log_speech_s"
FEATURE_SNR = "snr_db"
DEFAULT_FEATURES = (FEATURE_SCORE, FEATURE_LOG_SPEECH, FEATURE_SNR)

# log(seconds) is clamped here: below 0.1 s there is no usable speech and log(0) is -inf.
MIN_SPEECH_S = 0.1

CALIBRATION_KIND = "voiceauth.calibration"
CALIBRATION_FORMAT_VERSION = 1

# scikit-learn's C (inverse L2 strength) on standardised features: large, i.e. weak
# regularisation, which only keeps the fit finite when the training classes are separable.
DEFAULT_C = 1e4

_FIELDS = ("model", "features", "weights", "bias", "fitted_on", "created", "format_version")


def calibration_features(
    score: npt.ArrayLike,
    net_speech_s: npt.ArrayLike,
    snr_db: npt.ArrayLike | None = None,
) -> dict[str, Array]:
    """The calibration features, computed one way for fitting and for use.

    score: raw or AS-normed score; net_speech_s: net speech of the test side in seconds
    (logged, clamped at MIN_SPEECH_S); snr_db: estimated SNR in dB, left out when None.
    """
    features = {
        FEATURE_SCORE: np.asarray(score, dtype=np.float64),
        FEATURE_LOG_SPEECH: np.log(np.maximum(np.asarray(net_speech_s, np.float64), MIN_SPEECH_S)),
    }
    if snr_db is not None:
        features[FEATURE_SNR] = np.asarray(snr_db, dtype=np.float64)
    return features


def _feature(features: Mapping[str, npt.ArrayLike], name: str) -> Array:
    if name not in features:
        raise ConfigError(f"calibration feature {name!r} missing; given: {sorted(features)}")
    arr = np.asarray(features[name], dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"calibration feature {name!r} contains NaN or infinity")
    return arr


@dataclass(frozen=True)
class Calibration:
    """An affine map from named features to an LLR: llr = bias + sum(weights * features).

    model: `id@version` of the embedder whose scores it was fitted on. fitted_on: which trials
    (set, channel, count). created: ISO date supplied by the caller.
    """

    model: str
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    fitted_on: str
    created: str
    format_version: int = CALIBRATION_FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.format_version != CALIBRATION_FORMAT_VERSION:
            raise ConfigError(
                f"calibration format_version {self.format_version!r} unknown; "
                f"this voiceauth reads {CALIBRATION_FORMAT_VERSION}"
            )
        if not self.model:
            raise ConfigError("calibration model (id@version) must not be empty")
        if not self.features or len(set(self.features)) != len(self.features):
            raise ConfigError(
                f"calibration features must be unique and non-empty: {self.features!r}"
            )
        if len(self.weights) != len(self.features):
            raise ConfigError(
                f"calibration has {len(self.weights)} weights for {len(self.features)} features"
            )
        if not all(math.isfinite(w) for w in (*self.weights, self.bias)):
            raise ConfigError("calibration weights and bias must be finite numbers")
        try:
            datetime.fromisoformat(self.created)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"calibration created={self.created!r} is not an ISO date") from exc

    def check_model(self, model: str) -> None:
        """Raise EmbedderMismatch unless scores come from the embedder this was fitted for."""
        if model != self.model:
            raise EmbedderMismatch(self.model, model)

    def llr(self, features: Mapping[str, npt.ArrayLike]) -> Array:
        """Natural-log LLRs for features (arrays of one shape, or scalars); extras are ignored."""
        columns = [_feature(features, name) for name in self.features]
        try:
            shape = np.broadcast_shapes(*(c.shape for c in columns))
        except ValueError as exc:
            shapes = {n: c.shape for n, c in zip(self.features, columns, strict=True)}
            raise ValueError(f"calibration features have incompatible shapes {shapes}") from exc
        out = np.full(shape, self.bias, dtype=np.float64)
        for weight, column in zip(self.weights, columns, strict=True):
            out = out + weight * column
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write as versioned JSON (floats round-trip exactly)."""
        doc: dict[str, Any] = {"kind": CALIBRATION_KIND, **asdict(self)}
        doc["features"] = list(self.features)
        doc["weights"] = list(self.weights)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, indent=2, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Calibration:
        """Read a file written by `save`; anything else raises ConfigError naming the defect."""
        where = repr(os.fspath(path))
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"calibration file {where} is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise ConfigError(f"calibration file {where}: expected a JSON object")
        if doc.get("kind") != CALIBRATION_KIND:
            raise ConfigError(
                f"calibration file {where} has kind {doc.get('kind')!r}, "
                f"expected {CALIBRATION_KIND!r}"
            )
        if doc.get("format_version") != CALIBRATION_FORMAT_VERSION:
            raise ConfigError(
                f"calibration file {where} has format_version {doc.get('format_version')!r}, "
                f"this voiceauth reads {CALIBRATION_FORMAT_VERSION}"
            )
        missing = [name for name in _FIELDS if name not in doc]
        unknown = sorted(set(doc) - set(_FIELDS) - {"kind"})
        if missing or unknown:
            raise ConfigError(
                f"calibration file {where}: missing fields {missing}, unknown fields {unknown}"
            )
        strings = ("model", "fitted_on", "created")
        if not all(isinstance(doc[name], str) for name in strings):
            raise ConfigError(f"calibration file {where}: {', '.join(strings)} must be strings")
        if not isinstance(doc["features"], list) or not all(
            isinstance(f, str) for f in doc["features"]
        ):
            raise ConfigError(f"calibration file {where}: features must be a list of strings")
        numbers = [*doc["weights"], doc["bias"]] if isinstance(doc["weights"], list) else None
        if numbers is None or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in numbers
        ):
            raise ConfigError(f"calibration file {where}: weights and bias must be numbers")
        return cls(
            model=doc["model"],
            features=tuple(doc["features"]),
            weights=tuple(float(w) for w in doc["weights"]),
            bias=float(doc["bias"]),
            fitted_on=doc["fitted_on"],
            created=doc["created"],
            format_version=doc["format_version"],
        )


def fit_calibration(
    features: Mapping[str, npt.ArrayLike],
    labels: npt.ArrayLike,
    *,
    model: str,
    fitted_on: str,
    created: str,
    feature_names: Sequence[str] = DEFAULT_FEATURES,
    c: float = DEFAULT_C,
) -> Calibration:
    """Fit a Calibration by class-balanced logistic regression (scikit-learn, lbfgs).

    features[name]: (n,) per trial for each of feature_names; labels: (n,) true/1 = target.
    Features are standardised for the optimiser and the weights mapped back, so the stored
    weights apply to the raw features. A constant feature raises ConfigError (drop it).
    """
    names = tuple(feature_names)
    if not names:
        raise ConfigError("fit_calibration: feature_names is empty")
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"fit_calibration: labels must be a non-empty (n,) array, got {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("fit_calibration: labels must be boolean or 0/1")
    y = y.astype(np.int64)
    n_tar = int(y.sum())
    if n_tar == 0 or n_tar == y.size:
        raise ValueError(
            f"fit_calibration: need both classes, got {n_tar} targets, {y.size - n_tar} non-targets"
        )
    columns = []
    for name in names:
        col = _feature(features, name)
        if col.shape != y.shape:
            raise ValueError(
                f"fit_calibration: feature {name!r} has shape {col.shape}, labels {y.shape}"
            )
        columns.append(col)
    x = np.column_stack(columns)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    for name, s in zip(names, std, strict=True):
        if s == 0.0:
            raise ConfigError(
                f"calibration feature {name!r} is constant in the training data; leave it out"
            )
    regression = LogisticRegression(C=c, class_weight="balanced", solver="lbfgs", max_iter=1000)
    regression.fit((x - mean) / std, y)
    coef = np.asarray(regression.coef_, dtype=np.float64)[0]
    weights = coef / std
    bias = float(regression.intercept_[0]) - float(np.sum(weights * mean))
    return Calibration(
        model=model,
        features=names,
        weights=tuple(float(w) for w in weights),
        bias=bias,
        fitted_on=fitted_on,
        created=created,
    )
