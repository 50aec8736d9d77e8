"""Whisper-LR: statistics of a Whisper encoder layer into a logistic regression.

The LCNN learns its spectra from the few thousand clips here, and what it learns of one attack
family helps that family only (`models/liveness/lcnn/README.md`). Whisper's encoder was
trained on far more real speech than that, so its early layers describe speech in a way no
recipe here can learn; a countermeasure that only has to draw a line through them depends
less on the attacks it was shown. Per utterance: 8 kHz speech up-sampled to Whisper's 16 kHz,
the output of one early block (`layer`, 0 = the first), mean and standard deviation over its
frames, standardised, into `logistic.Linear`. Only the blocks up to `layer` are run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import torch

from voiceauth.audio.resample import resample
from voiceauth.errors import ConfigError, ModelIntegrityError
from voiceauth.liveness.base import file_version
from voiceauth.liveness.logistic import Linear, LinearCountermeasure, linear_fields
from voiceauth.liveness.modelfile import ModelFile
from voiceauth.liveness.whisper import HOP, MAX_FRAMES, SAMPLE_RATE, WhisperEncoder
from voiceauth.liveness.whisper_weights import VERSION, load_whisper

FORMAT_VERSION = 1
CM_ID = "whisper-lr"
MODEL_FILE = "whisper-lr.json"
INPUT_RATE = 8_000
"""What the detector takes: telephone audio; it brings it to Whisper's rate itself."""
CHUNK = MAX_FRAMES * HOP
"""Longer speech is encoded 30 s at a time; the statistics pool the frames of all chunks."""


@dataclass(frozen=True, slots=True)
class WhisperLrModel(ModelFile):
    """encoder: `whisper-base@<sha256 prefix>` the statistics were taken from; layer: the
    block whose output is pooled; linear: the regression over its 2 x width statistics."""

    encoder: str
    layer: int
    linear: Linear
    trained_on: str
    created: str
    format_version: int = FORMAT_VERSION
    kind: ClassVar[str] = CM_ID
    what: ClassVar[str] = f"a {CM_ID} model"
    current_format: ClassVar[int] = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.check_format()
        if self.layer < 0:
            raise ConfigError(f"{CM_ID} layer must be >= 0, got {self.layer}")
        self.linear.check(CM_ID, len(self.linear.mean))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> dict[str, Any]:
        return data | {"linear": Linear(**linear_fields(data["linear"]))}


def encoder_id() -> str:
    return f"whisper-base@{VERSION}"


def layer_stats(
    encoder: WhisperEncoder, samples: npt.NDArray[np.float32], layer: int
) -> npt.NDArray[np.float64]:
    """(2 x width,) mean and standard deviation over the frames of block `layer`'s output
    for (n,) float32 speech at 8 kHz."""
    wide = resample(samples, INPUT_RATE, SAMPLE_RATE)
    frames = []
    with torch.inference_mode():
        for start in range(0, len(wide), CHUNK):
            chunk = torch.from_numpy(np.ascontiguousarray(wide[start : start + CHUNK]))
            frames.append(encoder(chunk[None], layers=layer + 1)[layer][0])
    pooled = torch.cat(frames)
    stats = torch.cat([pooled.mean(dim=0), pooled.std(dim=0, correction=0)])
    return stats.double().numpy()


class WhisperLrCountermeasure(LinearCountermeasure):
    """`Countermeasure` over a `WhisperLrModel` and the Whisper encoder it was fitted on."""

    def __init__(
        self,
        model: WhisperLrModel,
        encoder: WhisperEncoder,
        *,
        version: str,
        min_seconds: float = 0.5,
    ) -> None:
        if model.encoder != encoder_id():
            raise ModelIntegrityError(
                f"{CM_ID} model was fitted on {model.encoder}, not on {encoder_id()}"
            )
        if model.layer >= len(encoder.blocks):
            raise ConfigError(f"{CM_ID} layer {model.layer}: the encoder has {len(encoder.blocks)}")
        super().__init__(
            cm_id=CM_ID,
            version=version,
            sample_rate=INPUT_RATE,
            min_seconds=min_seconds,
            linear=model.linear,
        )
        self._encoder = encoder
        self._layer = model.layer

    @classmethod
    def load(cls, path: Path, *, min_seconds: float = 0.5) -> WhisperLrCountermeasure:
        """The model JSON at `path` over the installed Whisper weights (`whisper_weights`)."""
        model = WhisperLrModel.load(path)
        encoder = load_whisper(model.layer + 1)
        return cls(model, encoder, version=file_version(path), min_seconds=min_seconds)

    def features(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        return layer_stats(self._encoder, samples, self._layer)
