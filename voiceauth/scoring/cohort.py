"""The impostor cohort used by adaptive score normalisation (AS-norm).

AS-norm (Matejka et al., Interspeech 2017; Cumani et al., 2011) normalises a score by how the
enrolment and the test sample score against the impostors *most similar to them*, so each side
needs the mean and spread of its top-N cohort cosines. The cohort sits in a faiss exact
inner-product index over length-normalised vectors (inner product = cosine), which is what a
replica rebuilds from the store at start-up.

The cohort must hold speakers who are never enrolled or tested against it; that is the
caller's job (pick it from a disjoint training set).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import faiss
import numpy as np
import numpy.typing as npt

from voiceauth.embeddings.base import Embedding, require_same_embedder
from voiceauth.errors import ConfigError, EmbedderMismatch
from voiceauth.scoring.cosine import l2_normalise

Array = npt.NDArray[np.float64]

COHORT_KIND = "voiceauth.cohort"
COHORT_FORMAT_VERSION = 1
# AS-norm needs a spread of scores; with one cohort score the standard deviation is 0.
MIN_TOP_N = 2


class Cohort:
    """Length-normalised impostor embeddings of one model, indexed for top-N cosine search."""

    def __init__(self, vectors: npt.ArrayLike, *, model: str) -> None:
        arr = np.asarray(vectors, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ConfigError(f"cohort needs a non-empty (k, d) array of vectors, got {arr.shape}")
        if not model:
            raise ConfigError("cohort model (id@version) must not be empty")
        self._vectors = np.ascontiguousarray(l2_normalise(arr), dtype=np.float32)
        self._model = model
        self._index = faiss.IndexFlatIP(self._vectors.shape[1])
        self._index.add(self._vectors)

    @classmethod
    def from_embeddings(cls, embeddings: Sequence[Embedding]) -> Cohort:
        """Cohort from embeddings of one model; mixed models raise EmbedderMismatch."""
        if not embeddings:
            raise ConfigError("cohort needs at least one embedding, got none")
        require_same_embedder(*(e.model for e in embeddings))
        dims = {e.vector.shape for e in embeddings}
        if len(dims) != 1:
            raise ConfigError(f"cohort embeddings have differing shapes: {sorted(dims)}")
        return cls(np.stack([e.vector for e in embeddings]), model=embeddings[0].model)

    @property
    def model(self) -> str:
        """`id@version` of the embedder whose vectors the cohort holds."""
        return self._model

    @property
    def size(self) -> int:
        """Number of cohort vectors."""
        return int(self._vectors.shape[0])

    @property
    def dimension(self) -> int:
        """Embedding dimension."""
        return int(self._vectors.shape[1])

    @property
    def vectors(self) -> npt.NDArray[np.float32]:
        """(size, dimension) float32 unit vectors (a copy; the index is never mutated)."""
        return self._vectors.copy()

    def check_model(self, model: str) -> None:
        """Raise EmbedderMismatch unless `model` is the cohort's embedder."""
        if model != self._model:
            raise EmbedderMismatch(self._model, model)

    def top_stats(self, vectors: npt.ArrayLike, top_n: int) -> tuple[Array, Array]:
        """Mean and standard deviation of each vector's top_n highest cohort cosines.

        vectors: (n, d), need not be normalised. Returns (mean (n,), std (n,)) float64; the
        std is the population std (ddof=0) of those top_n cosines. These are the per-side
        statistics of AS-norm; an enrolment's can be computed once and stored with it.
        """
        if isinstance(top_n, bool) or not isinstance(top_n, int | np.integer):
            raise ConfigError(f"top_n must be an integer, got {top_n!r}")
        if not MIN_TOP_N <= top_n <= self.size:
            raise ConfigError(
                f"top_n={top_n} must be between {MIN_TOP_N} and the cohort size {self.size}"
            )
        arr = np.asarray(vectors, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"top_stats: expected (n, d) vectors, got shape {arr.shape}")
        if arr.shape[1] != self.dimension:
            raise ValueError(
                f"top_stats: vectors have dimension {arr.shape[1]}, "
                f"cohort ({self._model}) has dimension {self.dimension}"
            )
        if arr.shape[0] == 0:
            return np.zeros(0), np.zeros(0)
        queries = np.ascontiguousarray(l2_normalise(arr), dtype=np.float32)
        sims, _ = self._index.search(queries, int(top_n))
        top = np.asarray(sims, dtype=np.float64)
        return top.mean(axis=1), top.std(axis=1)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write vectors, model and format version to `path` as an .npz (no pickle)."""
        with open(path, "wb") as fh:
            np.savez(
                fh,
                kind=np.array(COHORT_KIND),
                format_version=np.array(COHORT_FORMAT_VERSION, dtype=np.int64),
                model=np.array(self._model),
                vectors=self._vectors,
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cohort:
        """Read a cohort written by `save`; a foreign or newer file raises ConfigError."""
        where = repr(os.fspath(path))
        try:
            loaded = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ConfigError(f"cohort file {where} is not a plain .npz: {exc}") from exc
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ConfigError(f"cohort file {where} is a single array, expected an .npz archive")
        with loaded:
            try:
                fields = {name: loaded[name] for name in loaded.files}
            except ValueError as exc:
                raise ConfigError(f"cohort file {where} holds pickled data: {exc}") from exc
        for name in ("kind", "format_version", "model", "vectors"):
            if name not in fields:
                raise ConfigError(f"cohort file {where} lacks field {name!r}")
        kind = str(fields["kind"])
        if kind != COHORT_KIND:
            raise ConfigError(f"cohort file {where} has kind {kind!r}, expected {COHORT_KIND!r}")
        version = int(fields["format_version"])
        if version != COHORT_FORMAT_VERSION:
            raise ConfigError(
                f"cohort file {where} has format_version {version}, "
                f"this voiceauth reads {COHORT_FORMAT_VERSION}"
            )
        return cls(fields["vectors"], model=str(fields["model"]))
