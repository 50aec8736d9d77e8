"""The files that travel with a trained model: resolved config, model card, held-out speakers.

A model is only as trustworthy as what is known about its training: which data (and which
speakers were kept out, so evaluation can use them), how long, and how the loss went.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from voiceauth.training.config import TrainConfig
from voiceauth.training.corpus import Corpus

CONFIG_FILE = "train_config.yaml"
MODEL_CARD_FILE = "MODEL_CARD.md"
HELD_OUT_FILE = "held_out_speakers.txt"


@dataclass(frozen=True, slots=True, eq=False)
class RunSummary:
    """What the model card reports; history rows: (epoch, loss, accuracy, learning rate, margin)."""

    corpus: Corpus
    held_out: tuple[str, ...]
    history: list[tuple[int, float, float, float, float]] = field(default_factory=list)
    load_s: float = 0.0
    total_s: float = 0.0
    version: str = ""
    parameters: int = 0


def write_run_files(config: TrainConfig, summary: RunSummary) -> None:
    """Write train_config.yaml, MODEL_CARD.md and held_out_speakers.txt into `config.out`."""
    out = config.out
    (out / CONFIG_FILE).write_text(config.to_yaml(), encoding="utf-8")
    (out / MODEL_CARD_FILE).write_text(model_card(config, summary), encoding="utf-8")
    (out / HELD_OUT_FILE).write_text(
        "".join(f"{speaker}\n" for speaker in summary.held_out), encoding="utf-8"
    )


def model_card(config: TrainConfig, summary: RunSummary) -> str:
    """A short Markdown card: model, data, training, loss curve, limits."""
    corpus = summary.corpus
    files = sum(s.files for s in corpus.speakers)
    augment = config.augment
    origin = str(config.init) if config.init else f"random (seed {config.seed})"
    lines = [
        f"# ECAPA-TDNN speaker embedder `ecapa@{summary.version}`",
        "",
        "Trained with `voiceauth train` (AAM-softmax speaker classification; the embedding is",
        "the 'fc' layer output). Load it with `EcapaEmbedder(<this directory>)`.",
        "",
        "## Model",
        f"- channels {list(config.channels)}, embedding {config.lin_neurons}, "
        f"{config.n_mels} mel bands, 16 kHz input; {summary.parameters / 1e6:.2f} M parameters",
        f"- initialised from: {origin}",
        "",
        "## Data",
        f"- manifest: `{config.manifest}` (bonafide rows only)",
        f"- {len(corpus.speakers)} training speakers, {files} files, "
        f"{corpus.seconds / 60:.1f} min of net speech (Silero VAD), "
        f"{corpus.skipped_files} files skipped",
        f"- held out: {len(summary.held_out)} speakers (listed in `{HELD_OUT_FILE}`)",
        f"- dropped for too little speech (< {config.min_speech_s} s): "
        f"{len(corpus.dropped_speakers)} speakers",
        "",
        "## Training",
        f"- {config.epochs} epochs x {config.steps} steps x {config.batch_size} crops of "
        f"{config.crop_seconds} s; Adam, lr {config.learning_rate} (warm-up, cosine to "
        f"{config.final_lr}); AAM margin {config.margin} (ramped over "
        f"{config.margin_ramp_fraction:.0%} of steps), scale {config.scale}; seed {config.seed}",
        f"- augmentation: telephony (G.711, packet loss <= {augment.max_packet_loss}) "
        f"p={augment.telephony_prob}, white/pink noise {augment.snr_db[0]}-{augment.snr_db[1]} dB"
        f" p={augment.noise_prob}, speed {list(augment.speeds)} p={augment.speed_prob}",
        f"- wall time: {summary.total_s / 60:.1f} min ({summary.load_s:.0f} s loading speech)",
        "",
        "## Loss curve",
        "AAM loss grows with the margin while it is ramped up; compare epochs at equal margin.",
        "",
        "| epoch | loss | train accuracy | learning rate | margin |",
        "|---|---|---|---|---|",
        *(
            f"| {epoch} | {loss:.3f} | {accuracy:.3f} | {rate:.2e} | {margin:.2f} |"
            for epoch, loss, accuracy, rate, margin in summary.history
        ),
        "",
        "## Limits",
        "Training accuracy is measured on augmented crops of the training speakers: it says",
        "the optimisation worked, not that the model verifies new speakers. Evaluate it on",
        "held-out speakers (`voiceauth eval`) before use, on the telephone channel too.",
        "",
    ]
    return "\n".join(lines)


def read_held_out(model_dir: Path) -> list[str]:
    """The held-out speakers a training run wrote (empty if the file is absent)."""
    path = model_dir / HELD_OUT_FILE
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
