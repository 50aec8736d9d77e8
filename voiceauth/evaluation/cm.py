"""The countermeasure side of `voiceauth eval`: per-file scores, LLRs and fusion, by fold.

The countermeasure scores the net speech the embedder saw (same channel, same VAD cut), first
`max_seconds` of it, as the live call scores the last few seconds of speech (see
`liveness.streaming`). Its scores become LLRs (bona fide against spoof) through a calibration
fitted on the other folds' files, and the spoof-aware fusion of fold k is fitted on the other
folds' trials, so nothing is graded by what was fitted on its speakers. (The other folds' voice
LLRs come from a calibration fitted on fold k's bona fide trials: a four-parameter map, the
one indirect tie a two-fold protocol leaves.)

The scores can also come from elsewhere (`read_cm_scores`): the held-out fold scores that
`voiceauth train-cm` writes are the honest evidence for files the shipped model was trained on.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceauth.audio.frontend import Speech
from voiceauth.audio.resample import resample
from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import ConfigError
from voiceauth.fusion.decision import Outcome
from voiceauth.fusion.fit import fit_fusion
from voiceauth.fusion.model import OperatingPoints
from voiceauth.liveness.base import Countermeasure
from voiceauth.liveness.gate import CM_SCORE_FEATURE
from voiceauth.scoring.calibration import Calibration, fit_calibration

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CmScores:
    """Raw countermeasure scores by file key (`ManifestRow.key`), and the `id@version` of the
    model they are scores of (what its calibration and fusion are bound to); `heard`: the
    channel of a `score: <channel>` column they were read from, empty for the plain scores."""

    model: str
    scores: Mapping[str, float]
    heard: str = ""


VARIANT_PREFIX = "score: "
"""Columns beside `score` named `score: <channel>` hold the same held-out models' scores of the
files heard through another channel (`cmtrain.CHANNEL_VARIANTS`)."""


def variant_column(channel: str) -> str:
    return f"{VARIANT_PREFIX}{channel}"


def score_channels(path: Path) -> list[str]:
    """The other channels a scores CSV holds scores for (its `score: <channel>` columns)."""
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    return [name.removeprefix(VARIANT_PREFIX) for name in header if name.startswith(VARIANT_PREFIX)]


def read_cm_scores(
    path: Path, rows: Sequence[ManifestRow], *, model: str, column: str = "score"
) -> CmScores:
    """Each manifest file's score from a CSV with `path` and `score` columns (as `train-cm` and
    `eval-cm` write them; relative paths against the CSV's folder), matched on the resolved
    path; `column` picks another channel's scores. A file without a score is refused: its
    trials would lose their liveness evidence."""
    (scores,) = read_score_columns(path, rows, [column]).values()
    heard = column.removeprefix(VARIANT_PREFIX) if column.startswith(VARIANT_PREFIX) else ""
    return CmScores(model, dict(zip((r.key for r in rows), scores, strict=True)), heard)


def read_score_columns(
    path: Path, rows: Sequence[ManifestRow], columns: Sequence[str]
) -> dict[str, list[float]]:
    """`columns` of a scores CSV, each as one score per row of `rows` in their order, read in
    one pass; ConfigError as `read_cm_scores` says."""
    if not path.is_file():
        raise ConfigError(f"countermeasure scores not found: {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for column in columns:
            if not {"path", column} <= set(reader.fieldnames or []):
                raise ConfigError(f"countermeasure scores {path}: need columns path and {column}")
        by_path = {
            (path.parent / record["path"]).resolve(): [float(record[c]) for c in columns]
            for record in reader
        }
    missing = [r for r in rows if r.path.resolve() not in by_path]
    if missing:
        raise ConfigError(
            f"countermeasure scores {path}: {len(missing)} of {len(rows)} manifest files have "
            f"no row (first: {missing[0].path.resolve()})"
        )
    found = [by_path[r.path.resolve()] for r in rows]
    return {column: [values[i] for values in found] for i, column in enumerate(columns)}


class CmScorer:
    """Scores each file's net speech as `embed_files` hands it over (its `on_speech` hook);
    `scores` maps a file's key to its raw countermeasure score."""

    def __init__(self, cm: Countermeasure, *, max_seconds: float) -> None:
        self.cm = cm
        self.model = f"{cm.cm_id}@{cm.version}"
        self.max_samples = round(max_seconds * cm.sample_rate)
        self.scores: dict[str, float] = {}

    def __call__(self, row: ManifestRow, speech: Speech) -> None:
        samples = resample(speech.samples, speech.sample_rate, self.cm.sample_rate)
        self.scores[row.key] = self.cm.score(samples[: self.max_samples])

    def collected(self) -> CmScores:
        return CmScores(self.model, self.scores)


def fit_cm_calibration(
    scores: npt.ArrayLike, bonafide: npt.ArrayLike, *, model: str, fitted_on: str, created: str
) -> Calibration:
    """Raw countermeasure scores to LLRs (bona fide against spoof) on the feature `cm_score`,
    the file `liveness.gate.SpoofGate` and `liveness.streaming` read."""
    return fit_calibration(
        {CM_SCORE_FEATURE: scores},
        bonafide,
        model=model,
        fitted_on=fitted_on,
        created=created,
        feature_names=(CM_SCORE_FEATURE,),
    )


def cm_llr_by_fold(
    scores: Array,
    bonafide: npt.NDArray[np.bool_],
    fold: npt.NDArray[np.int64],
    *,
    model: str,
    created: str,
) -> Array:
    """(n,) file LLRs, each from a calibration fitted on the files of the other folds."""
    llr = np.empty(scores.size)
    for k in np.unique(fold):
        train = fold != k
        calibration = fit_cm_calibration(
            scores[train],
            bonafide[train],
            model=model,
            fitted_on=f"voiceauth eval, folds other than {k}",
            created=created,
        )
        llr[fold == k] = calibration.llr({CM_SCORE_FEATURE: scores[fold == k]})
    return llr


def fuse_by_fold(
    voice_llr: Array,
    cm_llr: Array,
    target: npt.NDArray[np.bool_],
    spoof: npt.NDArray[np.bool_],
    fold: npt.NDArray[np.int64],
    *,
    voice_model: str,
    cm_model: str,
    points: OperatingPoints,
    created: str,
) -> tuple[Array, npt.NDArray[np.str_], dict[str, Any]]:
    """Fused scores and outcomes of every trial from the fusion fitted on the other folds,
    and each fold's fitted parameters and thresholds (for the report)."""
    fused = np.empty(voice_llr.size)
    outcomes = np.empty(voice_llr.size, dtype=object)
    fitted: dict[str, Any] = {}
    for k in np.unique(fold):
        train, test = fold != k, fold == k
        fusion = fit_fusion(
            voice_llr[train],
            cm_llr[train],
            target[train],
            spoof[train],
            voice_model=voice_model,
            cm_model=cm_model,
            fitted_on=f"voiceauth eval, folds other than {k}",
            created=created,
            points=points,
        )
        fused[test] = fusion.score(voice_llr[test], cm_llr[test])
        outcomes[test] = [
            fusion.decide(float(v), float(c)).outcome.value
            for v, c in zip(voice_llr[test], cm_llr[test], strict=True)
        ]
        fitted[str(int(k))] = {"params": fusion.params, "thresholds": fusion.thresholds}
    return fused, outcomes.astype(str), fitted


def outcome_shares(
    outcomes: npt.NDArray[np.str_], target: npt.NDArray[np.bool_], spoof: npt.NDArray[np.bool_]
) -> dict[str, dict[str, float]]:
    """Percent of each trial class (target, non-target, spoof) per fusion outcome."""
    classes = {"target": target, "nontarget": ~target & ~spoof, "spoof": spoof}
    return {
        name: {o.value: 100.0 * float(np.mean(outcomes[mask] == o.value)) for o in Outcome}
        for name, mask in classes.items()
        if mask.any()
    }
