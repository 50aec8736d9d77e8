"""Train the LCNN countermeasure, and measure it on pages, speakers and attacks it never saw.

Held-out protocol. Files are grouped by page (`dataset`) and split by GroupKFold; for each
fold, the training set is then *purged* of every file that shares a speaker or (for spoofs)
an attack system with the held-out pages: a VCTK speaker of a held-out page is not learnt
from another page, an `autovc` of a held-out page is not learnt from another page's autovc,
and a held-out LibriSpeech speaker's replay or copy-synthesis (`liveness.attackset`) is not
trained on either. Every file is scored once by its fold's model; those scores give the
report (EER overall, per attack, family and page; the issue's operating points) and the
calibration to an LLR. The shipped model is then trained the same way on every file.
Folds by speaker instead (`fold_by="speaker"`) hold out people, not sources: every attack
system and page is seen in training, none of the held-out speakers' genuine or spoofed files
is; that answers "does it catch a clone of a customer it never heard" where page folds
answer "does it catch a system it never saw". Folds by family (`fold_by="family"`) hold out
whole attack families (every spoof of a family in one fold, `liveness.evaluate.family_of`)
with genuine pages spread over the folds, purged as page folds are: "does it catch a kind
of attack it never saw".

Training: balanced batches (half bona fide, half spoof; within each, pages drawn equally so a
large page does not set the decision), random crops, random 20-ms packet loss (the
telephone channel's concealment by silence), Adam with a cosine learning-rate decay. Every
file has passed the telephone channel (8 kHz, mu-law) before; see `liveness.evaluate`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from sklearn.model_selection import GroupKFold

from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import AudioFormatError, ConfigError
from voiceauth.liveness.base import Countermeasure
from voiceauth.liveness.evaluate import (
    CmEvalConfig,
    ScoredFile,
    channel_audio,
    cm_report,
    family_of,
)
from voiceauth.liveness.lcnn import Lcnn, LcnnConfig, lcnn_countermeasure
from voiceauth.liveness.windows import repeat_to

Samples = npt.NDArray[np.float32]
CHANNEL_VARIANTS = {
    "telephony a-law, 5 % packet loss": CmEvalConfig(
        channel="telephony", codec="alaw", packet_loss=0.05
    ),
    "wideband (no telephone channel)": CmEvalConfig(channel="wideband"),
    "telephony mu-law after a GSM full-rate mobile leg": CmEvalConfig(
        channel="telephony", leg_codec="gsm"
    ),
    "telephony mu-law, VAD net speech": CmEvalConfig(channel="telephony", net_speech=True),
    "telephony mu-law after a GSM full-rate mobile leg, VAD net speech": CmEvalConfig(
        channel="telephony", leg_codec="gsm", net_speech=True
    ),
}
"""Other channels the held-out files are also scored through (the folds' models trained on
mu-law telephony only), to show what a codec, lost packets, a mobile leg before the G.711
network (two ffmpeg runs a file: about 6 minutes of the recipe each time), or a wideband
source cost, and what the detector makes of the net speech a call feeds it, with and without
the mobile leg."""
NET_SPEECH_NOTE = ", VAD net speech"
"""Said of a recipe's training audio when it learnt from net speech only."""
MIN_SECONDS = 1.0
"""Shorter files are left out: a crop of a fraction of a second repeated says little."""
FOLD_UNITS = ("page", "speaker", "family")
"""What a held-out fold groups (see the module doc)."""
PACKET = 160
"""One 20-ms G.711 packet at 8 kHz (RFC 3551 §4.5), the unit of simulated loss."""


@dataclass(frozen=True, slots=True)
class LcnnTrainConfig:
    """folds, fold_by: how many folds, holding out which of FOLD_UNITS; steps x batch:
    training examples per model; crop_s: seconds per example; max_seconds: each file's first
    seconds (loaded and scored); max_packet_loss: per-example loss rate drawn from [0, this];
    net_speech: train on (and score) each file's VAD net speech, the audio a call feeds the
    detector (`liveness.streaming`), so pauses and leading silence are not learnt as
    evidence; leg_codecs: each file is also heard through one of these mobile or VoIP legs
    before G.711 (`audio.transcode`, drawn per file), and leg_share of the training examples
    come from that copy, so a codec's traces are learnt as channel, not as attack; channels:
    also score the held-out files through CHANNEL_VARIANTS (most of the recipe's time);
    threads: torch CPU threads."""

    folds: int = 4
    fold_by: str = "page"
    steps: int = 800
    batch: int = 32
    crop_s: float = 3.0
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    max_seconds: float = 6.0
    max_packet_loss: float = 0.05
    net_speech: bool = False
    channels: bool = True
    leg_codecs: tuple[str, ...] = ()
    leg_share: float = 0.5
    seed: int = 0
    threads: int = 2
    model: LcnnConfig = field(default_factory=LcnnConfig)


@dataclass(frozen=True, slots=True)
class Clips:
    """The usable files and their telephone-channel samples (first max_seconds; their VAD
    net speech when loaded with net_speech); legged: the same through a leg codec first, when
    loaded with leg_codecs (else empty)."""

    rows: list[ManifestRow]
    audio: list[Samples]
    skipped: Counter[str]
    legged: list[Samples] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LcnnTrainResult:
    """heldout: every file's held-out score; channels: the same models' scores of the files
    heard through each of CHANNEL_VARIANTS."""

    net: Lcnn
    report: dict[str, Any]
    heldout: list[ScoredFile]
    channels: dict[str, npt.NDArray[np.float64]]


def load_clips(
    rows: Sequence[ManifestRow],
    *,
    sample_rate: int,
    max_seconds: float,
    seed: int,
    net_speech: bool = False,
    leg_codecs: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Clips:
    """Every usable row through the telephone channel (its first max_seconds), at sample_rate;
    only the speech the VAD finds in it with net_speech (`evaluate.call_speech`); with
    leg_codecs, also each row through one of them first, drawn by (seed, row index)."""
    channel = CmEvalConfig(
        channel="telephony", max_seconds=max_seconds, seed=seed, net_speech=net_speech
    )
    kept: list[ManifestRow] = []
    audio: list[Samples] = []
    legged: list[Samples] = []
    skipped: Counter[str] = Counter()
    for index, row in enumerate(rows):
        if progress is not None:
            progress(1)
        try:
            samples = channel_audio(row, sample_rate=sample_rate, config=channel, index=index)
            if leg_codecs:
                codec = leg_codecs[
                    int(np.random.default_rng([seed, index]).integers(len(leg_codecs)))
                ]
                heard = replace(channel, leg_codec=codec)
                coded = channel_audio(row, sample_rate=sample_rate, config=heard, index=index)
        except AudioFormatError as exc:
            skipped[str(exc).split(":")[0]] += 1
            continue
        if len(samples) < MIN_SECONDS * sample_rate:
            skipped["too short"] += 1
            continue
        kept.append(row)
        audio.append(samples)
        if leg_codecs:
            legged.append(coded)
    return Clips(kept, audio, skipped, legged)


def _fold_group(row: ManifestRow, by: str) -> str:
    """What GroupKFold keeps together: a page, a speaker, or (by family) a spoof's attack
    family and a genuine file's page."""
    if by == "speaker":
        return row.speaker
    if by == "family" and row.label == "spoof":
        return f"family: {family_of(row)}"
    return f"page: {row.dataset or row.speaker}"


def purged_folds(
    rows: Sequence[ManifestRow], folds: int, by: str = "page"
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """(train, test) indices: groups (`_fold_group`) held out by GroupKFold, then training
    files that share a speaker or a spoof's attack system with the test files removed; by
    speaker, systems and pages stay shared (see the module doc)."""
    if by not in FOLD_UNITS:
        raise ConfigError(f"folds group {' or '.join(FOLD_UNITS)}, not {by!r}")
    groups = [_fold_group(r, by) for r in rows]
    labels = [r.label for r in rows]
    if len(set(groups)) < folds or len(set(labels)) < 2:
        raise ConfigError(
            f"train-cm needs both labels and at least {folds} {by} groups to hold out; "
            f"got {len(set(groups))}"
        )
    out = []
    for train, test in GroupKFold(n_splits=folds).split(rows, labels, groups):
        speakers = {rows[i].speaker for i in test}
        attacks = {rows[i].attack for i in test if rows[i].label == "spoof" and by != "speaker"}
        keep = np.array(
            [
                i
                for i in train
                if rows[i].speaker not in speakers
                and not (rows[i].label == "spoof" and rows[i].attack in attacks)
            ],
            dtype=np.int64,
        )
        if len({labels[i] for i in keep}) < 2:
            raise ConfigError("a purged training fold has only one label; use fewer folds")
        out.append((keep, np.asarray(test, dtype=np.int64)))
    return out


def fold_evaluation(folds: int, by: str) -> str:
    """The report's `evaluation` line for a recipe's held-out folds."""
    if by == "speaker":
        return (
            f"held out: {folds}-fold GroupKFold over speakers (every page and attack system "
            "also seen in training; the held-out speakers' files never)"
        )
    if by == "family":
        return (
            f"held out: {folds}-fold GroupKFold over attack families (spoofs) and pages "
            "(genuine), training purged of the held-out speakers and attack systems"
        )
    return (
        f"held out: {folds}-fold GroupKFold over pages, training purged of the "
        "held-out speakers and attack systems"
    )


def _sampling_weights(rows: Sequence[ManifestRow]) -> npt.NDArray[np.float64]:
    """Per-file probabilities: each label half of the mass, each page equal within a label."""
    count = Counter((r.label, r.dataset) for r in rows)
    pages = Counter(label for label, _ in count)
    weights = np.array([1.0 / (count[(r.label, r.dataset)] * pages[r.label]) for r in rows])
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _batch(
    audio: Sequence[Samples],
    picks: npt.NDArray[np.int64],
    crop: int,
    loss: float,
    rng: np.random.Generator,
    legged: tuple[Sequence[Samples], float] | None = None,
) -> torch.Tensor:
    """Random crops (short files repeated, as at scoring time) with random packet loss; with
    legged = (copies, share), that share of them from the file's leg-coded copy."""
    out = np.empty((len(picks), crop), dtype=np.float32)
    for slot, index in enumerate(picks):
        clip = audio[index]
        if legged is not None and rng.random() < legged[1]:
            clip = legged[0][index]
        if len(clip) <= crop:
            out[slot] = repeat_to(clip, crop)
        else:
            start = int(rng.integers(0, len(clip) - crop + 1))
            out[slot] = clip[start : start + crop]
        out[slot] = drop_packets(out[slot], rng, loss)
    return torch.from_numpy(out)


def drop_packets(clip: Samples, rng: np.random.Generator, max_loss: float) -> Samples:
    """The clip with 20-ms packets silenced at a rate drawn from [0, max_loss]: what a
    gateway's concealment by silence leaves of lost packets."""
    lost = rng.random(-(-len(clip) // PACKET)) < rng.uniform(0.0, max_loss)
    return np.asarray(clip * np.repeat(~lost, PACKET)[: len(clip)], dtype=np.float32)


def train_lcnn(
    rows: Sequence[ManifestRow],
    audio: Sequence[Samples],
    config: LcnnTrainConfig,
    *,
    seed: int,
    legged: Sequence[Samples] = (),
    on_step: Callable[[int, float], None] | None = None,
) -> Lcnn:
    """A fresh LCNN trained on (rows, audio) for config.steps balanced batches, a share of its
    examples from `legged` (each file's leg-coded copy) when given."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Lcnn(config.model)
    optimiser = torch.optim.AdamW(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.steps)
    weights = _sampling_weights(rows)
    labels = torch.tensor([r.label == "bonafide" for r in rows], dtype=torch.long)
    crop = round(config.crop_s * config.model.sample_rate)
    coded = (legged, config.leg_share) if len(legged) else None
    net.train()
    for step in range(config.steps):
        picks = rng.choice(len(rows), config.batch, p=weights)
        x = _batch(audio, picks, crop, config.max_packet_loss, rng, coded)
        loss = torch.nn.functional.cross_entropy(net(x), labels[picks])
        optimiser.zero_grad()
        torch.autograd.backward(loss)
        optimiser.step()
        schedule.step()
        if on_step is not None:
            on_step(step, loss.item())
    return net.eval()


def variant_scores(
    cm: Countermeasure,
    rows: Sequence[ManifestRow],
    test: npt.NDArray[np.int64],
    max_seconds: float,
    seed: int,
) -> list[tuple[str, list[float]]]:
    """A fold model's scores of its test files heard through each of CHANNEL_VARIANTS."""
    out = []
    for name, channel in CHANNEL_VARIANTS.items():
        heard = replace(channel, max_seconds=max_seconds, seed=seed)
        audio = [
            channel_audio(rows[i], sample_rate=cm.sample_rate, config=heard, index=i) for i in test
        ]
        out.append((name, cm.score_batch(audio)))
    return out


def channel_report(
    scored: Sequence[ScoredFile], variants: dict[str, npt.NDArray[np.float64]]
) -> dict[str, Any]:
    """`cm_report` of the held-out scores, with the headline figures of each channel variant
    (the same files, same fold models) under `per_channel`."""
    report = cm_report(scored)
    report["per_channel"] = {"telephony mu-law (as trained)": _headline(report)}
    for name, scores in variants.items():
        rescored = [replace(f, score=float(v)) for f, v in zip(scored, scores, strict=True)]
        report["per_channel"][name] = _headline(cm_report(rescored))
    return report


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("cm_eer", "spoof_accept_at_90_bonafide", "bonafide_accept_at_1_spoof", "per_family")
    return {key: report[key] for key in keys}


def _training_audio(config: LcnnTrainConfig) -> str:
    """What `trained_on` adds for net speech and leg-coded copies."""
    note = NET_SPEECH_NOTE if config.net_speech else ""
    if config.leg_codecs:
        note += f"; {config.leg_share:.0%} of examples through a "
        note += f"{'/'.join(config.leg_codecs)} leg first"
    return note


def train_and_evaluate(
    clips: Clips,
    config: LcnnTrainConfig,
    *,
    created: str,
    progress: Callable[[str, int, float], None] | None = None,
) -> LcnnTrainResult:
    """Held-out scores of every file (the config's fold_by folds), then the model trained on
    all."""
    torch.set_num_threads(config.threads)
    rows = clips.rows
    heldout = np.zeros(len(rows))
    variants: dict[str, npt.NDArray[np.float64]] = {}
    fold_sizes = []
    for fold, (train, test) in enumerate(purged_folds(rows, config.folds, config.fold_by)):

        def step(index: int, loss: float, name: str = f"fold {fold + 1}") -> None:
            if progress is not None:
                progress(name, index, loss)

        net = train_lcnn(
            [rows[i] for i in train],
            [clips.audio[i] for i in train],
            config,
            seed=config.seed + fold + 1,
            legged=[clips.legged[i] for i in train] if clips.legged else (),
            on_step=step,
        )
        cm = lcnn_countermeasure(net, version=f"fold{fold + 1}")
        heldout[test] = cm.score_batch([clips.audio[i] for i in test])
        if config.channels:
            for name, scores in variant_scores(cm, rows, test, config.max_seconds, config.seed):
                variants.setdefault(name, np.zeros(len(rows)))[test] = scores
        fold_sizes.append(
            {
                "train": len(train),
                "test": len(test),
                "test_pages": sorted({rows[i].dataset for i in test}),
            }
        )

    def final_step(index: int, loss: float) -> None:
        if progress is not None:
            progress("all files", index, loss)

    net = train_lcnn(
        rows, clips.audio, config, seed=config.seed, legged=clips.legged, on_step=final_step
    )
    scored = [
        ScoredFile(row, float(score), len(samples) / config.model.sample_rate)
        for row, score, samples in zip(rows, heldout, clips.audio, strict=True)
    ]
    report = channel_report(scored, variants)
    bonafide = sum(r.label == "bonafide" for r in rows)
    report.update(
        cm="lcnn",
        evaluation=fold_evaluation(config.folds, config.fold_by),
        trained_on=(
            f"{len(rows)} files ({bonafide} bona fide) of {len({r.dataset for r in rows})} "
            "datasets, telephone channel (mu-law; packet loss drawn up to "
            f"{config.max_packet_loss}){_training_audio(config)}"
        ),
        folds=fold_sizes,
        config=asdict(config),
        n_skipped=sum(clips.skipped.values()),
        skipped_reasons=dict(clips.skipped),
        created=created,
    )
    return LcnnTrainResult(net, report, scored, variants)
