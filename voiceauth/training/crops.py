"""Random fixed-length crops of training speech, balanced over speakers.

Fixed-length crops make every batch a dense tensor without padding, and random positions make
each step see new material. Speakers are drawn uniformly (not in proportion to their speech),
so a speaker with hours of digits does not drown one with a single paragraph: AAM-softmax needs
every class to be seen often.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceauth.training.corpus import Corpus


@dataclass(frozen=True, slots=True, eq=False)
class CropBatch:
    """crops: list of (n,) float32 arrays at the corpus rate; labels: (batch,) class indices."""

    crops: list[npt.NDArray[np.float32]]
    labels: npt.NDArray[np.int64]


class CropSampler:
    """Draws batches of `crop_samples`-long crops from a `Corpus`, reproducibly for an rng."""

    def __init__(self, corpus: Corpus, crop_samples: int, rng: np.random.Generator) -> None:
        if crop_samples < 1:
            raise ValueError(f"crop_samples must be >= 1, got {crop_samples}")
        self._corpus = corpus
        self._crop = crop_samples
        self._rng = rng

    def batch(self, size: int) -> CropBatch:
        """`size` crops of distinct speakers when there are enough speakers, else repeating."""
        count = len(self._corpus.speakers)
        labels = self._rng.choice(count, size=size, replace=size > count)
        crops = [self.crop(int(label)) for label in labels]
        return CropBatch(crops=crops, labels=labels.astype(np.int64))

    def crop(self, label: int) -> npt.NDArray[np.float32]:
        """One random crop of speaker `label`; speech shorter than a crop is repeated."""
        samples = self._corpus.speakers[label].samples
        if len(samples) <= self._crop:
            start = int(self._rng.integers(len(samples)))
            return np.resize(np.roll(samples, -start), self._crop).astype(np.float32)
        start = int(self._rng.integers(len(samples) - self._crop + 1))
        return samples[start : start + self._crop].copy()
