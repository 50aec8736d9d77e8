"""The one embedder protocol and the embedding value every backend returns.

An embedding is only meaningful next to embeddings of the same model, so each one carries its
embedder's id and version, and every comparison checks them (`require_same_embedder`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from voiceauth.errors import EmbedderMismatch

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Embedding:
    """A speaker embedding with the identity of the model that made it.

    vector: (dimension,) float32, not normalised (scoring normalises).
    net_speech_s: seconds of speech it was computed from, a calibration feature.
    """

    embedder_id: str
    version: str
    vector: Vector = field(repr=False)
    net_speech_s: float = 0.0

    @property
    def model(self) -> str:
        """`id@version`, the key under which embeddings may be compared."""
        return f"{self.embedder_id}@{self.version}"


def require_same_embedder(*models: str) -> None:
    """Raise EmbedderMismatch unless all `id@version` strings are equal."""
    first = models[0]
    for other in models[1:]:
        if other != first:
            raise EmbedderMismatch(first, other)


def mean_embedding(embeddings: list[Embedding]) -> Embedding:
    """Speech-weighted mean of length-normalised embeddings of one model (an enrolment).

    Length-normalising first keeps a long file from dominating by its norm alone; weighting by
    net speech lets longer, more reliable files count more.
    """
    if not embeddings:
        raise ValueError("mean_embedding needs at least one embedding")
    require_same_embedder(*(e.model for e in embeddings))
    vectors = np.stack([e.vector / max(float(np.linalg.norm(e.vector)), 1e-12) for e in embeddings])
    weights = np.array([max(e.net_speech_s, 1e-3) for e in embeddings], dtype=np.float64)
    mean = (vectors * weights[:, None]).sum(axis=0) / weights.sum()
    first = embeddings[0]
    return Embedding(
        first.embedder_id,
        first.version,
        mean.astype(np.float32),
        float(sum(e.net_speech_s for e in embeddings)),
    )


@runtime_checkable
class Embedder(Protocol):
    """What every backend (ecapa, ge2e, ...) exposes.

    `embed` takes speech already cut by the VAD (net speech), as (n,) float32 in [-1, 1] at
    `sample_rate`; it raises InsufficientSpeech below `min_samples`, never returns NaN.
    """

    @property
    def embedder_id(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def dimension(self) -> int: ...

    @property
    def min_samples(self) -> int: ...

    def embed(self, speech: Vector) -> Embedding: ...

    def embed_batch(self, speech: list[Vector]) -> list[Embedding]: ...
