"""Several countermeasures as one: their scores weighed by a regression fitted on held-out data.

Detectors that look at different things err on different files: the LCNN reads a spectrum it
learnt from the attacks here, Whisper-LR the speech representation of a model trained on far
more real speech, and their held-out scores correlate at about 0.7. A logistic regression
over the members' held-out fold scores (the scores each file got from models that never saw
its page, speaker or attack system) learns how much each deserves; the ensemble's own
held-out figures come from fitting that regression on the other folds' files only.

An ensemble names its members' folders (relative to its own) and their versions: retraining a
member changes its version, and the ensemble then refuses to load until it is refitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from voiceauth.errors import ConfigError, ModelIntegrityError
from voiceauth.liveness.base import Countermeasure, Detector, create_countermeasure, file_version
from voiceauth.liveness.modelfile import ModelFile

FORMAT_VERSION = 1
CM_ID = "ensemble"
MODEL_FILE = "ensemble.json"


@dataclass(frozen=True, slots=True)
class Member:
    """cm: a countermeasure name; folder: its files, relative to the ensemble's folder;
    version: the version its scores were fitted for."""

    cm: str
    folder: str
    version: str


@dataclass(frozen=True, slots=True)
class EnsembleModel(ModelFile):
    """score = sum(weights[i] * member i's score) + bias: bona-fide log-odds."""

    members: tuple[Member, ...]
    weights: tuple[float, ...]
    bias: float
    trained_on: str
    created: str
    format_version: int = FORMAT_VERSION
    kind: ClassVar[str] = CM_ID
    what: ClassVar[str] = "an ensemble model"
    current_format: ClassVar[int] = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.check_format()
        if len(self.members) < 2 or len(self.weights) != len(self.members):
            raise ConfigError(f"{CM_ID} needs two or more members and one weight each")
        if any(m.cm == CM_ID for m in self.members):
            raise ConfigError(f"an {CM_ID} cannot be a member of another")
        if not all(np.isfinite([*self.weights, self.bias])):
            raise ConfigError(f"{CM_ID} model has non-finite parameters")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> dict[str, Any]:
        members = tuple(Member(**m) for m in data["members"])
        return data | {"members": members, "weights": tuple(data["weights"])}


class EnsembleCountermeasure(Detector):
    """`Countermeasure` over loaded members, each checked to be the version fitted for."""

    def __init__(
        self, model: EnsembleModel, members: Sequence[Countermeasure], *, version: str
    ) -> None:
        for expected, cm in zip(model.members, members, strict=True):
            if (expected.cm, expected.version) != (cm.cm_id, cm.version):
                raise ModelIntegrityError(
                    f"{CM_ID} was fitted for {expected.cm}@{expected.version}, not for "
                    f"{cm.cm_id}@{cm.version}: refit it (`voiceauth combine-cm`)"
                )
        if len({cm.sample_rate for cm in members}) != 1:
            raise ConfigError(f"{CM_ID} members must take one sample rate")
        super().__init__(
            cm_id=CM_ID,
            version=version,
            sample_rate=members[0].sample_rate,
            min_samples=max(cm.min_samples for cm in members),
        )
        self._model = model
        self._members = tuple(members)

    def score_batch(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[float]:
        if not batch:
            return []
        scores = np.array([cm.score_batch(batch) for cm in self._members])
        combined = np.array(self._model.weights) @ scores + self._model.bias
        return [float(s) for s in combined]


def load_ensemble(folder: Path, *, min_seconds: float, batch_size: int) -> EnsembleCountermeasure:
    """The ensemble in `folder` with its members loaded from the folders it names."""
    path = folder / MODEL_FILE
    model = EnsembleModel.load(path)
    members = [
        create_countermeasure(
            m.cm,
            weights_dir=(folder / m.folder).resolve(),
            min_seconds=min_seconds,
            batch_size=batch_size,
        )
        for m in model.members
    ]
    return EnsembleCountermeasure(model, members, version=file_version(path))


def fit_weights(
    scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]
) -> tuple[tuple[float, ...], float]:
    """(weights, bias) of a class-balanced logistic regression over (n, members) scores."""
    fitted = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    fitted.fit(scores, labels)
    return tuple(float(w) for w in fitted.coef_[0]), float(fitted.intercept_[0])


def heldout_ensemble(
    scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    tests: Sequence[npt.NDArray[np.int64]],
    *,
    heard: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """Each fold's files scored by weights fitted on every other fold's files; with `heard`
    (the members' scores of the same files through another channel), those scores are
    weighed instead, by the same weights."""
    applied = scores if heard is None else heard
    out = np.zeros(len(labels))
    for test in tests:
        rest = np.setdiff1d(np.arange(len(labels)), test)
        weights, bias = fit_weights(scores[rest], labels[rest])
        out[test] = applied[test] @ np.array(weights) + bias
    return out
