"""The ECAPA-TDNN training loop: AAM-softmax over speakers on augmented random crops.

The recipe of the ECAPA paper (Desplanques et al., Interspeech 2020) and SpeechBrain's
VoxCeleb recipe, scaled to a CPU: a speaker-classification network whose penultimate layer is
the embedding, trained with additive angular margin softmax (Deng et al., ArcFace) so that
speakers are separated by angle, which is what cosine scoring measures. `train_ecapa` runs
the stages (select speakers, load speech, train, embedding statistics, write) and reports
through callbacks; it never prints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from speechbrain.nnet.losses import AdditiveAngularMargin, LogSoftmaxWrapper

from voiceauth.audio.vad import SileroVad
from voiceauth.data.manifest import read_manifest
from voiceauth.embeddings.ecapa import file_sha256, load_state_dict
from voiceauth.embeddings.ecapa_hparams import (
    EMBEDDING_MODEL_FILE,
    HYPERPARAMS_FILE,
    EcapaHparams,
)
from voiceauth.errors import ModelNotFound
from voiceauth.training.augment import Augmenter
from voiceauth.training.checkpoint import EmbeddingStats, require_empty_dir, write_model_dir
from voiceauth.training.config import TrainConfig
from voiceauth.training.corpus import (
    Corpus,
    FileProgress,
    load_corpus,
    read_speaker_list,
    split_speakers,
)
from voiceauth.training.crops import CropSampler
from voiceauth.training.report import RunSummary, write_run_files

GRADIENT_CLIP = 5.0  # max gradient norm: AAM logits are scaled by 30, early steps can spike
STATS_CROPS_PER_SPEAKER = 4  # crops per speaker for the global embedding mean
SAMPLE_RATE = 16000


@dataclass(frozen=True, slots=True)
class EpochReport:
    """Means over one epoch's steps: AAM loss, training accuracy (no margin), learning rate."""

    epoch: int
    epochs: int
    loss: float
    accuracy: float
    learning_rate: float
    margin: float
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class TrainResult:
    """Where the model went, its embedder version, and the run's history."""

    out: Path
    version: str
    speakers: int
    held_out: tuple[str, ...]
    history: tuple[EpochReport, ...]


EpochCallback = Callable[[EpochReport], None]
StageCallback = Callable[[str], None]


def train_ecapa(
    config: TrainConfig,
    *,
    on_epoch: EpochCallback | None = None,
    on_stage: StageCallback | None = None,
    on_file: FileProgress | None = None,
) -> TrainResult:
    """Train (or fine-tune from `config.init`) and write the model directory `config.out`."""
    started = time.monotonic()
    stage = on_stage or (lambda message: None)
    require_empty_dir(config.out)
    base = _initial_hparams(config)
    config = replace(
        config,
        channels=base.channels,
        lin_neurons=base.lin_neurons,
        n_mels=base.n_mels,
    )
    rows = read_manifest(config.manifest)
    exclude = read_speaker_list(config.exclude_speakers) if config.exclude_speakers else set()
    split = split_speakers(
        rows,
        exclude=exclude,
        val_fraction=config.val_fraction,
        max_speakers=config.max_speakers,
        seed=config.seed,
    )
    stage(f"loading speech of {len(split.train)} speakers (decode + VAD, once)")
    corpus = load_corpus(
        rows,
        split.train,
        SileroVad(),
        sample_rate=SAMPLE_RATE,
        min_speech_s=config.min_speech_s,
        on_file=on_file,
    )
    load_s = time.monotonic() - started
    stage(
        f"{len(corpus.speakers)} speakers, {corpus.seconds / 60:.1f} min of net speech "
        f"({corpus.skipped_files} files skipped) in {load_s:.0f} s; training"
    )
    hparams = replace(base, out_neurons=len(corpus.speakers))
    torch.manual_seed(config.seed)
    model = hparams.build_model()
    if config.init is not None:
        load_state_dict(model, config.init / EMBEDDING_MODEL_FILE)
    classifier = hparams.build_classifier(len(corpus.speakers))
    history = train_loop(config, hparams, model, classifier, corpus, on_epoch=on_epoch)
    stage("computing embedding statistics")
    stats = embedding_stats(config, hparams, model, corpus)
    write_model_dir(
        config.out,
        hparams=hparams,
        model=model,
        classifier=classifier,
        stats=stats,
        labels=corpus.labels,
        title=f"ECAPA-TDNN trained by voiceauth on {config.manifest.name}",
    )
    version = file_sha256(config.out / EMBEDDING_MODEL_FILE)[:12]
    write_run_files(
        config,
        RunSummary(
            corpus=corpus,
            held_out=split.held_out,
            history=[(r.epoch, r.loss, r.accuracy, r.learning_rate, r.margin) for r in history],
            load_s=load_s,
            total_s=time.monotonic() - started,
            version=version,
            parameters=sum(p.numel() for p in model.parameters()),
        ),
    )
    return TrainResult(config.out, version, len(corpus.speakers), split.held_out, tuple(history))


def train_loop(
    config: TrainConfig,
    hparams: EcapaHparams,
    model: torch.nn.Module,
    classifier: torch.nn.Module,
    corpus: Corpus,
    *,
    on_epoch: EpochCallback | None = None,
) -> list[EpochReport]:
    """Optimise model and classifier for `config.total_steps` steps; per-epoch reports."""
    seeds = np.random.SeedSequence(config.seed).spawn(2)
    crop_samples = round(config.crop_seconds * SAMPLE_RATE)
    augmenter = Augmenter(
        config.augment,
        sample_rate=SAMPLE_RATE,
        crop_samples=crop_samples,
        rng=np.random.default_rng(seeds[0]),
    )
    sampler = CropSampler(corpus, augmenter.source_samples, np.random.default_rng(seeds[1]))
    features, sentence_norm = hparams.build_features(), hparams.build_sentence_norm()
    optimiser = torch.optim.Adam(
        [*model.parameters(), *classifier.parameters()],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
    )
    model.train()
    classifier.train()
    history: list[EpochReport] = []
    started = time.monotonic()
    step = 0
    for epoch in range(1, config.epochs + 1):
        losses, hits, seen = [], 0, 0
        for _ in range(config.steps):
            rate = learning_rate(config, step)
            margin = margin_at(config, step)
            for group in optimiser.param_groups:
                group["lr"] = rate
            batch = sampler.batch(config.batch_size)
            wavs = torch.from_numpy(np.stack([augmenter(crop) for crop in batch.crops]))
            with torch.no_grad():
                feats = sentence_norm(features(wavs), torch.ones(len(wavs)))
            loss, correct = _step(
                model, classifier, optimiser, feats, torch.from_numpy(batch.labels), margin, config
            )
            losses.append(loss)
            hits += correct
            seen += len(batch.labels)
            step += 1
        report = EpochReport(
            epoch=epoch,
            epochs=config.epochs,
            loss=float(np.mean(losses)),
            accuracy=hits / seen,
            learning_rate=rate,
            margin=margin,
            elapsed_s=time.monotonic() - started,
        )
        history.append(report)
        if on_epoch is not None:
            on_epoch(report)
    model.eval()
    classifier.eval()
    return history


def _step(
    model: torch.nn.Module,
    classifier: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    feats: torch.Tensor,
    labels: torch.Tensor,
    margin: float,
    config: TrainConfig,
) -> tuple[float, int]:
    """One AAM-softmax step on (batch, frames, n_mels) features; returns loss and hits."""
    cosines = classifier(model(feats))
    criterion = LogSoftmaxWrapper(AdditiveAngularMargin(margin=margin, scale=config.scale))
    loss = criterion(cosines, labels.unsqueeze(1))
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([*model.parameters(), *classifier.parameters()], GRADIENT_CLIP)
    optimiser.step()
    hits = int((cosines.detach().squeeze(1).argmax(dim=1) == labels).sum())
    return float(loss.detach()), hits


def margin_at(config: TrainConfig, step: int) -> float:
    """AAM margin at `step`: linear from 0 to `margin` over the ramp, then constant."""
    ramp = config.margin_ramp_fraction * config.total_steps
    if ramp < 1.0:
        return config.margin
    return config.margin * min(1.0, step / ramp)


def learning_rate(config: TrainConfig, step: int) -> float:
    """Linear warm-up to `learning_rate`, then cosine decay to `final_lr` at the last step."""
    total = config.total_steps
    warmup = max(1, round(config.warmup_fraction * total))
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup - 1)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return config.final_lr + (config.learning_rate - config.final_lr) * cosine


def embedding_stats(
    config: TrainConfig, hparams: EcapaHparams, model: torch.nn.Module, corpus: Corpus
) -> EmbeddingStats:
    """Mean and std of embeddings of clean training crops, a few per speaker (speaker-balanced).

    This is `mean_var_norm_emb`: subtracting it centres embeddings of the trained population,
    so cosine scores spread over the sphere instead of sharing one common direction.
    """
    crop_samples = round(config.crop_seconds * SAMPLE_RATE)
    sampler = CropSampler(corpus, crop_samples, np.random.default_rng(config.seed + 1))
    features, sentence_norm = hparams.build_features(), hparams.build_sentence_norm()
    crops = [
        sampler.crop(label)
        for label in range(len(corpus.speakers))
        for _ in range(STATS_CROPS_PER_SPEAKER)
    ]
    model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(crops), config.batch_size):
            wavs = torch.from_numpy(np.stack(crops[start : start + config.batch_size]))
            feats = sentence_norm(features(wavs), torch.ones(len(wavs)))
            outputs.append(model(feats).squeeze(1))
    return EmbeddingStats.of(torch.cat(outputs))


def _initial_hparams(config: TrainConfig) -> EcapaHparams:
    """The architecture: the `--init` model's card when fine-tuning, else the config's."""
    if config.init is not None:
        for name in (HYPERPARAMS_FILE, EMBEDDING_MODEL_FILE):
            if not (config.init / name).is_file():
                raise ModelNotFound(f"--init {config.init}: {name} missing (a model directory?)")
        return EcapaHparams.load(config.init / HYPERPARAMS_FILE)
    return EcapaHparams(
        n_mels=config.n_mels,
        sentence_std_norm=False,
        channels=config.channels,
        kernel_sizes=(5, 3, 3, 3, 1),
        dilations=(1, 2, 3, 4, 1),
        attention_channels=128,
        lin_neurons=config.lin_neurons,
        embedding_std_norm=False,
    )
