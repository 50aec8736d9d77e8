"""A countermeasure from any fixed-window network: validation, windowing, batching, scoring.

The published detectors take fixed-length inputs and return two logits (spoof, bona fide). This
wrapper turns such a network into a `Countermeasure`: it checks the input once, cuts it into
windows by the policy of `liveness.windows`, runs the windows in batches without gradients,
and returns the logit difference (bona fide minus spoof), averaged over the windows of one
input. With a softmax output layer that difference is the log posterior ratio, an LLR up to the
training prior's offset: uncalibrated, but on a log-odds scale that calibration can map.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from voiceauth.liveness.base import Detector
from voiceauth.liveness.windows import cut_windows

Samples = npt.NDArray[np.float32]


class WindowedCountermeasure(Detector):
    """Scores (n,) float32 audio in [-1, 1] at `sample_rate`; higher means more bona fide.

    window: samples per network input. min_samples: shorter input raises InsufficientSpeech
    (repeating a fragment to fill a 4-s window gives a score about the fragment's repetition,
    not about the voice). bonafide_index: which logit is bona fide. batch_size: windows per
    forward pass, a memory bound.
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        cm_id: str,
        version: str,
        sample_rate: int,
        window: int,
        min_samples: int,
        bonafide_index: int = 1,
        batch_size: int = 8,
    ) -> None:
        if not 0 < min_samples <= window:
            raise ValueError(f"min_samples must be in (0, {window}], got {min_samples}")
        super().__init__(
            cm_id=cm_id, version=version, sample_rate=sample_rate, min_samples=min_samples
        )
        self._net = net.eval()
        self._window = window
        self._bonafide = bonafide_index
        self._batch_size = batch_size

    @property
    def window(self) -> int:
        """Samples per network input (longer audio is scored window by window)."""
        return self._window

    def score_batch(self, batch: Sequence[Samples]) -> list[float]:
        """Scores of several inputs, their windows run together in batches of `batch_size`."""
        windows = [cut_windows(self.checked(samples), self._window) for samples in batch]
        if not windows:
            return []
        stacked = np.concatenate(windows)
        llrs = np.concatenate(
            [
                self._window_scores(stacked[i : i + self._batch_size])
                for i in range(0, len(stacked), self._batch_size)
            ]
        )
        bounds = np.cumsum([0, *(len(w) for w in windows)])
        return [float(llrs[a:b].mean()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def _window_scores(self, windows: Samples) -> npt.NDArray[np.float64]:
        with torch.inference_mode():
            logits = self._net(torch.from_numpy(np.ascontiguousarray(windows)))
        diff: torch.Tensor = logits[:, self._bonafide] - logits[:, 1 - self._bonafide]
        return np.asarray(diff.double().numpy(), dtype=np.float64)
