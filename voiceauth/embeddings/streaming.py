"""Streaming embedding: an embedding that improves as the caller's speech arrives.

Speech chunks (already cut by the VAD) are appended; once `min_speech_s` is there, the speech
gathered so far is re-embedded every `update_every_s` of new speech. Re-embedding the whole
window (rather than averaging chunk embeddings) keeps the accuracy of one long utterance; capping
the window at `max_window_s` (the most recent speech) keeps the cost per update bounded.
"""

from __future__ import annotations

import numpy as np

from voiceauth.embeddings.base import Embedder, Embedding, Vector


class StreamingEmbedding:
    """Accumulates net speech for one talker and keeps its current embedding."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        min_speech_s: float = 1.0,
        update_every_s: float = 1.0,
        max_window_s: float = 60.0,
    ) -> None:
        if not 0 < min_speech_s <= max_window_s:
            raise ValueError("need 0 < min_speech_s <= max_window_s")
        if update_every_s <= 0:
            raise ValueError("update_every_s must be positive")
        self._embedder = embedder
        rate = embedder.sample_rate
        self._min = max(int(min_speech_s * rate), embedder.min_samples)
        self._every = int(update_every_s * rate)
        self._max = int(max_window_s * rate)
        self._chunks: list[Vector] = []
        self._buffered = 0
        self._total = 0
        self._since_update = 0
        self._current: Embedding | None = None

    @property
    def net_speech_s(self) -> float:
        """All speech received, in seconds (the window embedded may be shorter)."""
        return self._total / self._embedder.sample_rate

    @property
    def current(self) -> Embedding | None:
        """The latest embedding, or None while there is too little speech."""
        return self._current

    def add(self, speech: Vector) -> Embedding | None:
        """Append a chunk of net speech at the embedder's rate; return a new embedding if due."""
        chunk = np.asarray(speech, dtype=np.float32)
        if chunk.ndim != 1:
            raise ValueError(f"speech chunk must be 1-D, got shape {chunk.shape}")
        if not np.isfinite(chunk).all():
            raise ValueError("speech chunk contains NaN or infinite samples")
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        self._total += len(chunk)
        self._since_update += len(chunk)
        self._trim()
        due = self._current is None or self._since_update >= self._every
        if self._buffered < self._min or not due:
            return None
        window = np.concatenate(self._chunks)
        embedding = self._embedder.embed(window)
        self._current = Embedding(
            embedding.embedder_id, embedding.version, embedding.vector, self.net_speech_s
        )
        self._since_update = 0
        return self._current

    def _trim(self) -> None:
        while self._buffered - len(self._chunks[0]) >= self._max:
            self._buffered -= len(self._chunks.pop(0))
        if self._buffered > self._max:
            excess = self._buffered - self._max
            self._chunks[0] = self._chunks[0][excess:]
            self._buffered = self._max
