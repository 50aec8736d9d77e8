"""Train Whisper-LR, measured on pages, speakers and attacks it never saw (the LCNN protocol).

The same clips, held-out folds (page, speaker or family: `cmtrain.purged_folds`) and channel
variants as the LCNN recipe (`cmtrain`): each file's Whisper statistics are taken once, every
fold fits `logistic.fit_linear` on its purged training files and scores its held-out files,
and the shipped model is fitted on every file.
Each training file is learnt twice, as heard and with random 20-ms packets lost (held-out
files are scored as heard). Only the encoder's blocks up to the pooled layer run, so the
recipe costs minutes on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from voiceauth.liveness.cmtrain import (
    NET_SPEECH_NOTE,
    Clips,
    channel_report,
    drop_packets,
    fold_evaluation,
    purged_folds,
    variant_scores,
)
from voiceauth.liveness.evaluate import ScoredFile
from voiceauth.liveness.logistic import Linear, fit_linear
from voiceauth.liveness.whisper import WhisperEncoder
from voiceauth.liveness.whisper_lr import (
    CM_ID,
    INPUT_RATE,
    WhisperLrCountermeasure,
    WhisperLrModel,
    encoder_id,
    layer_stats,
)


@dataclass(frozen=True, slots=True)
class WhisperTrainConfig:
    """folds, fold_by: as in `cmtrain.LcnnTrainConfig`; layer: the encoder block pooled
    (0 = first); regularisation: inverse L2 strength C; max_seconds: each file's first
    seconds; max_packet_loss: each training file is also learnt from a copy with packets lost
    at a rate drawn up to this; net_speech, channels: as in `cmtrain.LcnnTrainConfig`;
    threads: torch threads."""

    folds: int = 4
    fold_by: str = "page"
    layer: int = 0
    regularisation: float = 0.1
    max_seconds: float = 8.0
    max_packet_loss: float = 0.05
    net_speech: bool = False
    channels: bool = True
    seed: int = 0
    threads: int = 2


@dataclass(frozen=True, slots=True)
class WhisperTrainResult:
    """As `cmtrain.LcnnTrainResult`."""

    model: WhisperLrModel
    report: dict[str, Any]
    heldout: list[ScoredFile]
    channels: dict[str, np.ndarray]


def _model(
    linear: Linear, config: WhisperTrainConfig, trained_on: str, created: str
) -> WhisperLrModel:
    return WhisperLrModel(
        encoder=encoder_id(),
        layer=config.layer,
        linear=linear,
        trained_on=trained_on,
        created=created,
    )


def train_whisper_lr(
    clips: Clips,
    encoder: WhisperEncoder,
    config: WhisperTrainConfig,
    *,
    created: str,
    progress: Callable[[int], None] | None = None,
) -> WhisperTrainResult:
    """Held-out scores of every file (the config's fold_by folds, channel variants), then the
    model fitted on all files."""
    torch.set_num_threads(config.threads)
    rows = clips.rows
    rng = np.random.default_rng(config.seed)
    stats, lossy = [], []
    for samples in clips.audio:
        stats.append(layer_stats(encoder, samples, config.layer))
        lost = drop_packets(samples, rng, config.max_packet_loss)
        lossy.append(layer_stats(encoder, lost, config.layer))
        if progress is not None:
            progress(1)
    features = np.concatenate([np.stack(stats), np.stack(lossy)])
    labels = np.tile(np.array([r.label == "bonafide" for r in rows], dtype=np.int64), 2)
    heldout = np.zeros(len(rows))
    variants: dict[str, np.ndarray] = {}
    for fold, (train, test) in enumerate(purged_folds(rows, config.folds, config.fold_by)):
        both = np.concatenate([train, train + len(rows)])
        linear = fit_linear(features[both], labels[both], regularisation=config.regularisation)
        heldout[test] = linear.log_odds(features[test])
        cm = WhisperLrCountermeasure(
            _model(linear, config, "fold", created), encoder, version=f"fold{fold + 1}"
        )
        if config.channels:
            for name, scores in variant_scores(cm, rows, test, config.max_seconds, config.seed):
                variants.setdefault(name, np.zeros(len(rows)))[test] = scores
    bonafide = int(labels[: len(rows)].sum())
    trained_on = (
        f"{len(rows)} files ({bonafide} bona fide) of {len({r.dataset for r in rows})} "
        f"datasets, telephone channel (mu-law; each also with packet loss drawn up to "
        f"{config.max_packet_loss}){NET_SPEECH_NOTE if config.net_speech else ''}, "
        f"{encoder_id()} block {config.layer}"
    )
    linear = fit_linear(features, labels, regularisation=config.regularisation)
    scored = [
        ScoredFile(row, float(score), len(samples) / INPUT_RATE)
        for row, score, samples in zip(rows, heldout, clips.audio, strict=True)
    ]
    report = channel_report(scored, variants)
    report.update(
        cm=CM_ID,
        evaluation=fold_evaluation(config.folds, config.fold_by),
        trained_on=trained_on,
        config=asdict(config),
        n_skipped=sum(clips.skipped.values()),
        skipped_reasons=dict(clips.skipped),
        created=created,
    )
    return WhisperTrainResult(_model(linear, config, trained_on, created), report, scored, variants)
