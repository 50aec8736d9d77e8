"""The resolved configuration of one `voiceauth train` run, validated once and saved with it.

Every number that shapes the result lives here, so `train_config.yaml` in the output directory
is enough to reproduce (or question) a model. Defaults are the CPU recipe: a small ECAPA that
learns speaker separation from this project's shared data in a few minutes on two cores
(see the numbers in MODEL_CARD.md of each trained model).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from voiceauth.errors import ConfigError

DEFAULT_CHANNELS = (128, 128, 128, 128, 384)
"""An eighth of the published 1024-channel model (0.76 M parameters against 20.8 M).

Tuned on ../shared/data with 56 speakers held out, 2026-11-23: in the same few CPU minutes,
more steps of this model separated held-out speakers better than fewer steps of 256 channels
(cosine EER 14.5 % wideband / 24.4 % telephony for 256 channels in 9 min against 12.7 % /
22.3 % for this one in 5.5 min; see `voiceauth train --help` and the model card)."""


@dataclass(frozen=True, slots=True)
class AugmentConfig:
    """Probabilities and ranges of the training augmentations (each applied independently).

    Telephony: 8 kHz G.711 (mu-law or A-law at random) with 20 ms packet loss drawn from
    [0, max_packet_loss], because the service hears calls, not studio speech. Noise: white or
    pink at an SNR drawn from snr_db. Speed: resampling by 0.9 or 1.1 (pitch and tempo move
    together, a cheap stand-in for new voices, as in Kaldi's speed perturbation).
    """

    telephony_prob: float = 0.7  # tuned with noise_prob on ../shared/data, 2026-11-23
    max_packet_loss: float = 0.05
    noise_prob: float = 0.5
    snr_db: tuple[float, float] = (5.0, 30.0)
    speed_prob: float = 0.3
    speeds: tuple[float, ...] = (0.9, 1.1)

    def __post_init__(self) -> None:
        for name in ("telephony_prob", "noise_prob", "speed_prob"):
            _probability(name, getattr(self, name))
        if not 0.0 <= self.max_packet_loss < 1.0:
            raise ConfigError(f"max_packet_loss must be in [0, 1), got {self.max_packet_loss}")
        low, high = self.snr_db
        if low > high:
            raise ConfigError(f"snr_db range must be (low, high), got {self.snr_db}")
        if not self.speeds or any(not 0.5 <= s <= 2.0 for s in self.speeds):
            raise ConfigError(f"speeds must be factors in [0.5, 2], got {self.speeds}")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """One training run.

    Data: bonafide rows of `manifest`; speakers in `exclude_speakers` and a `val_fraction`
    share of the rest are held out; at most `max_speakers` train (None: all), each needing at
    least `min_speech_s` of net speech. Steps: `epochs` x `steps` optimiser steps of
    `batch_size` random `crop_seconds` crops; an "epoch" is a reporting and schedule unit, not a
    pass over the data, since crops are drawn at random. Optimiser: Adam, linear warm-up over
    `warmup_fraction` of the steps then cosine decay from `learning_rate` to `final_lr`.
    Loss: AAM-softmax (`margin`, `scale`), the margin ramped up over the first
    `margin_ramp_fraction` of the steps so a small model first finds the classes at all.
    """

    manifest: Path
    out: Path
    epochs: int = 12
    steps: int = 40  # 480 steps: about 5 min on one loaded CPU core with the default model
    batch_size: int = 32
    crop_seconds: float = 2.0
    channels: tuple[int, ...] = DEFAULT_CHANNELS
    lin_neurons: int = 192
    n_mels: int = 80
    learning_rate: float = 2e-3
    final_lr: float = 5e-5
    warmup_fraction: float = 0.05
    weight_decay: float = 2e-5
    margin: float = 0.2
    scale: float = 30.0
    margin_ramp_fraction: float = 0.3
    seed: int = 0
    init: Path | None = None
    max_speakers: int | None = None
    exclude_speakers: Path | None = None
    val_fraction: float = 0.0
    min_speech_s: float = 1.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        for name in ("epochs", "steps", "batch_size", "lin_neurons", "n_mels"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ConfigError(f"batch_size must be >= 2, got {self.batch_size}")
        if not 0.5 <= self.crop_seconds <= 10.0:
            raise ConfigError(f"crop_seconds must be in [0.5, 10], got {self.crop_seconds}")
        if len(self.channels) != 5 or any(c < 8 for c in self.channels):
            raise ConfigError(
                f"channels must be 5 layer widths >= 8 (e.g. 256,256,256,256,768), "
                f"got {list(self.channels)}"
            )
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.max_speakers is not None and self.max_speakers < 2:
            raise ConfigError(f"max_speakers must be >= 2, got {self.max_speakers}")
        if not 0.0 < self.final_lr <= self.learning_rate:
            raise ConfigError("need 0 < final_lr <= learning_rate")
        for name in ("warmup_fraction", "margin_ramp_fraction"):
            _probability(name, getattr(self, name))
        if not 0.0 <= self.margin < 1.0 or self.scale <= 0:
            raise ConfigError(
                f"need 0 <= margin < 1 and scale > 0, got {self.margin}, {self.scale}"
            )

    @property
    def total_steps(self) -> int:
        """Optimiser steps over the whole run."""
        return self.epochs * self.steps

    def to_yaml(self) -> str:
        """The resolved configuration as YAML (paths as strings, tuples as lists)."""
        text: str = yaml.safe_dump(_plain(asdict(self)), sort_keys=False)
        return text


def _plain(value: Any) -> Any:
    """Paths to strings and tuples to lists, so `yaml.safe_dump` writes plain YAML."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {value}")
