"""Train LFCC-LR on a manifest, and measure it on whole pages it was not trained on.

A detector trained on a few sources learns the sources (corpus, microphone, loudness) rather
than the attack (../shared/data/README.md), so the only honest figure is on sources held out:
files are grouped by `dataset` (one demo page, with its genuine clips and its systems' clips,
is one group), and k-fold cross-validation leaves whole groups out (scikit-learn's
GroupKFold). Every file is scored once, by the model fitted on the other folds, and those
held-out scores give the EERs (overall, per attack, per page) through `evaluate.cm_report`.
The model that is shipped is then fitted on every file.

Every clip goes through the telephone channel first (8 kHz, G.711, optional packet loss): the
demo pages are 8 kHz, so wideband bona fide speech would otherwise be told apart by bandwidth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import GroupKFold

from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import AudioFormatError, ConfigError
from voiceauth.liveness.evaluate import CmEvalConfig, ScoredFile, channel_audio, cm_report
from voiceauth.liveness.lfcc import LfccConfig, utterance_stats
from voiceauth.liveness.lfcc_lr import LfccLrModel
from voiceauth.liveness.logistic import fit_linear

MIN_SECONDS = 0.5
"""Shorter clips are skipped, as the countermeasure refuses them."""


@dataclass(frozen=True, slots=True)
class TrainCmConfig:
    """folds: GroupKFold folds over datasets. regularisation: inverse L2 strength C of the
    logistic regression. max_seconds: each clip's first seconds (bounds the cost)."""

    folds: int = 5
    regularisation: float = 0.1
    max_seconds: float | None = 8.0
    packet_loss: float = 0.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Features:
    rows: list[ManifestRow]
    stats: npt.NDArray[np.float64]
    durations: list[float]
    skipped: Counter[str]


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: LfccLrModel
    report: dict[str, Any]
    heldout: list[ScoredFile]


def extract_features(
    rows: Sequence[ManifestRow],
    config: TrainCmConfig,
    lfcc: LfccConfig,
    *,
    progress: Callable[[int], None] | None = None,
) -> Features:
    """Utterance LFCC statistics of every usable row, after the telephone channel."""
    channel = CmEvalConfig(
        channel="telephony",
        packet_loss=config.packet_loss,
        max_seconds=config.max_seconds,
        seed=config.seed,
    )
    kept: list[ManifestRow] = []
    stats: list[npt.NDArray[np.float64]] = []
    durations: list[float] = []
    skipped: Counter[str] = Counter()
    for index, row in enumerate(rows):
        if progress is not None:
            progress(1)
        try:
            samples = channel_audio(row, sample_rate=lfcc.sample_rate, config=channel, index=index)
        except AudioFormatError as exc:
            skipped[str(exc).split(":")[0]] += 1
            continue
        if len(samples) < MIN_SECONDS * lfcc.sample_rate:
            skipped["too short"] += 1
            continue
        kept.append(row)
        stats.append(utterance_stats(samples, lfcc))
        durations.append(len(samples) / lfcc.sample_rate)
    return Features(kept, np.stack(stats), durations, skipped)


def fit_model(
    stats: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    *,
    lfcc: LfccConfig,
    regularisation: float,
    trained_on: str,
    created: str,
) -> LfccLrModel:
    """An LFCC-LR model: `logistic.fit_linear` over the utterance statistics."""
    linear = fit_linear(stats, labels, regularisation=regularisation)
    return LfccLrModel(
        lfcc=lfcc,
        mean=linear.mean,
        scale=linear.scale,
        weights=linear.weights,
        bias=linear.bias,
        trained_on=trained_on,
        created=created,
    )


def train_countermeasure(
    rows: Sequence[ManifestRow],
    config: TrainCmConfig,
    *,
    created: str,
    lfcc: LfccConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrainResult:
    """Held-out (leave-datasets-out) figures, then the model fitted on every usable file."""
    front = lfcc or LfccConfig()
    features = extract_features(rows, config, front, progress=progress)
    labels = np.array([r.label == "bonafide" for r in features.rows], dtype=np.int64)
    groups = [r.dataset or r.speaker for r in features.rows]
    if len(set(groups)) < config.folds or len(set(labels.tolist())) < 2:
        raise ConfigError(
            f"train-cm needs both labels and at least {config.folds} datasets to hold out; "
            f"got {len(set(groups))} datasets"
        )
    heldout = np.zeros(len(labels))
    for train, test in GroupKFold(n_splits=config.folds).split(features.stats, labels, groups):
        if len(set(labels[train].tolist())) < 2:
            raise ConfigError("a training fold has only one label; use fewer folds")
        fold = fit_model(
            features.stats[train],
            labels[train],
            lfcc=front,
            regularisation=config.regularisation,
            trained_on="fold",
            created=created,
        )
        heldout[test] = fold.log_odds(features.stats[test])
    scored = [
        ScoredFile(row, float(score), duration)
        for row, score, duration in zip(features.rows, heldout, features.durations, strict=True)
    ]
    trained_on = (
        f"{len(labels)} files ({int(labels.sum())} bona fide) of {len(set(groups))} datasets, "
        f"telephone channel (mu-law, packet loss {config.packet_loss})"
    )
    model = fit_model(
        features.stats,
        labels,
        lfcc=front,
        regularisation=config.regularisation,
        trained_on=trained_on,
        created=created,
    )
    report = cm_report(scored)
    report.update(
        cm="lfcc-lr",
        evaluation=f"held out: {config.folds}-fold GroupKFold over datasets",
        config={
            "folds": config.folds,
            "regularisation": config.regularisation,
            "max_seconds": config.max_seconds,
            "packet_loss": config.packet_loss,
            "seed": config.seed,
        },
        n_skipped=sum(features.skipped.values()),
        skipped_reasons=dict(features.skipped),
        created=created,
    )
    return TrainResult(model, report, scored)
