"""Write a trained ECAPA model directory in SpeechBrain's published layout.

The same layout as `speechbrain/spkrec-ecapa-voxceleb`, so `EcapaEmbedder` (and SpeechBrain's
`EncoderClassifier`) load a model trained here exactly as they load the published one:
`hyperparams.yaml` with the architecture actually trained, plain `state_dict`s, the global
embedding statistics in the dict `InputNormalization._save` writes, and the speaker labels in
`CategoricalEncoder`'s text format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from voiceauth.embeddings.ecapa_hparams import (
    CLASSIFIER_FILE,
    EMBEDDING_MODEL_FILE,
    EMBEDDING_NORM_FILE,
    HYPERPARAMS_FILE,
    LABEL_ENCODER_FILE,
    EcapaHparams,
)
from voiceauth.errors import ConfigError

_LABEL_SEPARATOR = " => "  # CategoricalEncoder's VALUE_SEPARATOR
_EXTRAS_SEPARATOR = "================"  # CategoricalEncoder's EXTRAS_SEPARATOR


@dataclass(frozen=True, slots=True, eq=False)
class EmbeddingStats:
    """Mean and standard deviation (dimension,) of `count` training embeddings."""

    mean: torch.Tensor
    std: torch.Tensor
    count: int

    @classmethod
    def of(cls, embeddings: torch.Tensor) -> EmbeddingStats:
        """Statistics of (n, dimension) embeddings."""
        if embeddings.ndim != 2 or len(embeddings) < 2:
            raise ValueError(f"need (n >= 2, dimension) embeddings, got {tuple(embeddings.shape)}")
        data = embeddings.detach().double()
        return cls(
            mean=data.mean(dim=0).float(),
            std=data.std(dim=0).clamp(min=1e-10).float(),
            count=len(embeddings),
        )


def require_empty_dir(out: Path) -> None:
    """Refuse an output directory that already holds files, before minutes of training."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"output directory {out} exists and is not empty: choose a new one")


def write_model_dir(
    out: Path,
    *,
    hparams: EcapaHparams,
    model: torch.nn.Module,
    classifier: torch.nn.Module | None,
    stats: EmbeddingStats,
    labels: tuple[str, ...],
    title: str,
) -> None:
    """Write the model files into `out` (created if needed); extra files are the caller's."""
    out.mkdir(parents=True, exist_ok=True)
    (out / HYPERPARAMS_FILE).write_text(hparams.to_yaml(title=title), encoding="utf-8")
    torch.save(_cpu_state(model), out / EMBEDDING_MODEL_FILE)
    torch.save(
        {"count": stats.count, "glob_mean": stats.mean.cpu(), "glob_std": stats.std.cpu()},
        out / EMBEDDING_NORM_FILE,
    )
    if classifier is not None:
        torch.save(_cpu_state(classifier), out / CLASSIFIER_FILE)
        (out / LABEL_ENCODER_FILE).write_text(label_encoder_text(labels), encoding="utf-8")


def label_encoder_text(labels: tuple[str, ...]) -> str:
    """Labels in SpeechBrain `CategoricalEncoder` format: `'label' => index`, then extras."""
    lines = [f"{label!r}{_LABEL_SEPARATOR}{index}" for index, label in enumerate(labels)]
    lines += [_EXTRAS_SEPARATOR, f"'starting_index'{_LABEL_SEPARATOR}0"]
    return "\n".join(lines) + "\n"


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the state_dict, so the file loads anywhere with weights_only."""
    return {key: value.detach().cpu().clone() for key, value in module.state_dict().items()}
