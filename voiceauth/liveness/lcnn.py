"""LCNN: a light convolutional countermeasure on 8 kHz log linear-filterbank spectrograms.

The LFCC-LCNN of the ASVspoof 2021 baselines (Wang & Yamagishi, "A comparative study on recent
neural spoofing countermeasures", 2021) is the recipe followed, scaled to what a shared CPU can
train in minutes: log energies of 60 linear triangular filters over 0-4 kHz (the LFCC
filterbank of `liveness.lfcc`, before its DCT, so convolutions see the upper band where
vocoders leave traces), four convolution blocks with max-feature-map activations (Wu et al.,
"A light CNN for deep face representation", 2018: each block keeps the larger of two halves of
its channels, a learnt feature selection at half the width), mean over frequency, mean and
standard deviation over time, and one linear layer to two logits (spoof, bona fide).

The network takes raw 8 kHz waveforms, so it plugs into `WindowedCountermeasure` (4-s windows).
Each input's log energies have their overall mean removed (one number), so loudness says
nothing; the spectral shape is kept, because a loudspeaker's colouring is part of what gives
a replay away (removing each band's mean instead cost replay detection its signal: held-out
EER of simulated replay 49 % against 27 %, models/liveness/lcnn/README.md).
Weights are safetensors and the architecture is a JSON config beside them: data, not pickle.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from voiceauth.errors import ConfigError, ModelIntegrityError, ModelNotFound
from voiceauth.liveness.lfcc import LfccConfig, linear_filterbank
from voiceauth.liveness.windowed import WindowedCountermeasure

WEIGHTS_FILE = "lcnn.safetensors"
CONFIG_FILE = "config.json"
CONFIG_KIND = "voiceauth.lcnn"
CM_ID = "lcnn"


@dataclass(frozen=True, slots=True)
class LcnnConfig:
    """sample_rate, frame/hop/n_fft (samples) and n_bands: the front end; channels: output
    channels of the four blocks (halved by max-feature-map); window_s: seconds per input;
    dropout before the last layer."""

    sample_rate: int = 8000
    frame: int = 160
    hop: int = 80
    n_fft: int = 256
    n_bands: int = 60
    pre_emphasis: float = 0.97
    channels: tuple[int, int, int, int] = (16, 32, 48, 64)
    window_s: float = 4.0
    dropout: float = 0.3

    @property
    def window(self) -> int:
        """Samples per network input."""
        return round(self.window_s * self.sample_rate)

    def save(self, path: Path) -> None:
        doc = {"kind": CONFIG_KIND, **asdict(self)}
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LcnnConfig:
        """Read config.json; a missing file raises ModelNotFound, a bad one ConfigError."""
        if not path.is_file():
            raise ModelNotFound(f"LCNN config not found: {path}")
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            if doc.pop("kind", None) != CONFIG_KIND:
                raise ConfigError(f"{path} is not a {CONFIG_KIND} config")
            doc["channels"] = tuple(doc["channels"])
            return cls(**doc)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{path} is not a {CONFIG_KIND} config: {exc}") from exc


class LogFilterbank(nn.Module):
    """(batch, samples) waveform -> (batch, 1, n_bands, frames) log energies, their mean
    over bands and frames removed."""

    bank: torch.Tensor
    window: torch.Tensor

    def __init__(self, config: LcnnConfig) -> None:
        super().__init__()
        self.config = config
        bank = linear_filterbank(
            LfccConfig(sample_rate=config.sample_rate, n_fft=config.n_fft, n_filters=config.n_bands)
        )
        self.register_buffer("bank", torch.tensor(bank, dtype=torch.float32), persistent=False)
        self.register_buffer("window", torch.hamming_window(config.frame), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        c = self.config
        x = torch.cat([waveform[:, :1], waveform[:, 1:] - c.pre_emphasis * waveform[:, :-1]], 1)
        spec = torch.stft(
            x, c.n_fft, c.hop, c.frame, window=self.window, center=False, return_complex=True
        )
        power = spec.real**2 + spec.imag**2
        energies = torch.log(torch.matmul(self.bank, power) + 1e-6)
        energies = energies - energies.mean(dim=(1, 2), keepdim=True)
        return energies.unsqueeze(1)


class MfmBlock(nn.Module):
    """Convolution to 2 x out channels, max-feature-map to out, batch norm, 2 x 2 max pool."""

    def __init__(self, inputs: int, outputs: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(inputs, 2 * outputs, kernel, padding=kernel // 2)
        self.norm = nn.BatchNorm2d(outputs)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.conv(x).chunk(2, dim=1)
        pooled: torch.Tensor = self.pool(self.norm(torch.maximum(a, b)))
        return pooled


class Lcnn(nn.Module):
    """(batch, samples) 8 kHz waveform -> (batch, 2) logits, index 1 = bona fide."""

    def __init__(self, config: LcnnConfig) -> None:
        super().__init__()
        self.config = config
        self.frontend = LogFilterbank(config)
        widths = [c // 2 for c in config.channels]
        self.blocks = nn.Sequential(
            MfmBlock(1, widths[0], 5),
            *(MfmBlock(a, b, 3) for a, b in zip(widths[:-1], widths[1:], strict=True)),
        )
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(2 * widths[-1], 2)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x: torch.Tensor = self.blocks(self.frontend(waveform)).mean(dim=2)
        pooled = torch.cat([x.mean(dim=2), x.std(dim=2)], dim=1)
        logits: torch.Tensor = self.out(self.dropout(pooled))
        return logits


def save_lcnn(net: Lcnn, folder: Path) -> Path:
    """Write config.json and the weights (safetensors) into folder; returns the weights path."""
    folder.mkdir(parents=True, exist_ok=True)
    net.config.save(folder / CONFIG_FILE)
    path = folder / WEIGHTS_FILE
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path


def load_lcnn(folder: Path) -> Lcnn:
    """Rebuild the network from config.json and load its weights strictly: a missing,
    unexpected or mis-shaped tensor raises ModelIntegrityError naming it."""
    config = LcnnConfig.load(folder / CONFIG_FILE)
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise ModelNotFound(f"LCNN weights not found: {path}; train them with `voiceauth train-cm`")
    net = Lcnn(config)
    state = load_file(str(path))
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [k for k in set(expected) & set(state) if expected[k].shape != state[k].shape]
    if missing or unexpected or shapes:
        raise ModelIntegrityError(
            f"{path} does not fit {config}: missing {missing}, unexpected {unexpected}, "
            f"wrong shapes {sorted(shapes)}"
        )
    net.load_state_dict(state, strict=True)
    return net.eval()


def lcnn_countermeasure(
    net: Lcnn, *, version: str, min_seconds: float = 0.5, batch_size: int = 8
) -> WindowedCountermeasure:
    """The network behind the windowing and batching every countermeasure shares: 4-s
    windows, shorter input repeated, longer input scored window by window and averaged."""
    return WindowedCountermeasure(
        net,
        cm_id=CM_ID,
        version=version,
        sample_rate=net.config.sample_rate,
        window=net.config.window,
        min_samples=round(min_seconds * net.config.sample_rate),
        batch_size=batch_size,
    )
