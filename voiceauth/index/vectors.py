"""`VectorIndex`: a faiss inner-product index over unit vectors, keyed by record id.

Inner product of length-normalised vectors is the cosine the scores use. `IndexIDMap2` over
an exact flat index lets entries be removed by id the moment their record is deleted (an erased
voiceprint must not be findable any more), which the approximate indices make awkward; exact
search over the watchlist's size (thousands) is well under a millisecond per query, see
benchmarks/watchlist.py. Record ids are strings in the database; faiss wants int64, so each id
gets a label from a counter (never reused while the index lives).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import faiss
import numpy as np
import numpy.typing as npt

from voiceauth.errors import ConfigError, DuplicateRecord, EmbedderMismatch


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the record id and its cosine with the query."""

    record_id: str
    score: float


def unit_rows(vectors: npt.ArrayLike, dimension: int) -> npt.NDArray[np.float32]:
    """(k, dimension) float32 rows scaled to length 1; ConfigError on a wrong shape or NaN."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != dimension:
        raise ConfigError(f"index vectors: shape {arr.shape}, need (k, {dimension})")
    if not np.isfinite(arr).all():
        raise ConfigError("index vectors contain NaN or infinity")
    norms = np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(arr / norms, dtype=np.float32)


class VectorIndex:
    """Exact cosine search over the vectors of one model; thread-safe (API workers share it)."""

    def __init__(self, model: str, dimension: int) -> None:
        if dimension <= 0:
            raise ConfigError(f"index dimension must be positive, got {dimension}")
        self.model = model
        self.dimension = dimension
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._labels: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._next = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._labels

    def check_model(self, model: str) -> None:
        if model != self.model:
            raise EmbedderMismatch(self.model, model)

    def add(self, record_id: str, vector: npt.ArrayLike) -> None:
        """Index one record; DuplicateRecord if the id is already there."""
        row = unit_rows(vector, self.dimension)
        with self._lock:
            if record_id in self._labels:
                raise DuplicateRecord("index entry", record_id)
            label = self._next
            self._next += 1
            self._index.add_with_ids(row, np.array([label], dtype=np.int64))
            self._labels[record_id] = label
            self._ids[label] = record_id

    def remove(self, record_id: str) -> bool:
        """Drop a record; False if it was not indexed (removal is idempotent)."""
        with self._lock:
            label = self._labels.pop(record_id, None)
            if label is None:
                return False
            del self._ids[label]
            # faiss's Python wrapper turns an int64 array into an ID selector; its stubs miss it.
            self._index.remove_ids(np.array([label], dtype=np.int64))  # type: ignore[arg-type]
            return True

    def search(self, vector: npt.ArrayLike, *, threshold: float, k: int = 5) -> list[Hit]:
        """The up to k records with cosine >= threshold, best first."""
        query = unit_rows(vector, self.dimension)
        with self._lock:
            if not self._labels:
                return []
            scores, labels = self._index.search(query, min(k, len(self._labels)))
            return [
                Hit(self._ids[int(label)], float(score))
                for score, label in zip(scores[0], labels[0], strict=True)
                if label >= 0 and score >= threshold
            ]
