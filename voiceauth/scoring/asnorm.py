"""Adaptive symmetric score normalisation (AS-norm1).

A raw cosine means different things for different speakers and recordings: some voices score
high against everyone. AS-norm (Matejka et al., "Analysis of score normalization in multilingual
speaker recognition", Interspeech 2017; after Cumani et al., 2011) turns the score into the
average of two z-scores, one against the enrolment's and one against the test sample's closest
impostors (top-N cohort cosines), which makes one threshold fit all speakers better:

    s_norm = ((s - mu_e) / sigma_e + (s - mu_t) / sigma_t) / 2
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from voiceauth.embeddings.base import Embedding, require_same_embedder
from voiceauth.errors import ConfigError
from voiceauth.scoring.cohort import Cohort
from voiceauth.scoring.cosine import cosine_matrix, cosine_pairs

Array = npt.NDArray[np.float64]

# WeSpeaker's VoxCeleb recipes report AS-Norm with the top 300 cohort scores; a starting point,
# retune on the deployment cohort (it must not exceed the cohort size).
DEFAULT_TOP_N = 300


def _stat(name: str, x: npt.ArrayLike, shape: tuple[int, ...], *, spread: bool) -> Array:
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"asnorm: {name} has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"asnorm: {name} contains NaN or infinity")
    if spread and np.any(arr <= 0.0):
        raise ValueError(f"asnorm: {name} must be > 0 (a degenerate cohort gives std 0)")
    return arr


def asnorm(
    raw: npt.ArrayLike,
    enrol_mean: npt.ArrayLike,
    enrol_std: npt.ArrayLike,
    test_mean: npt.ArrayLike,
    test_std: npt.ArrayLike,
) -> Array:
    """AS-norm1 of raw scores given each side's top-N cohort mean and std.

    Matrix form: raw (n, m) rows = test, columns = enrolments; test stats (n,) apply per row,
    enrol stats (m,) per column. Pair form: raw (n,) (or a scalar) with all stats of the same
    shape. Returns float64 of raw's shape.
    """
    scores = np.asarray(raw, dtype=np.float64)
    if scores.ndim == 2:
        n, m = scores.shape
        e_mean = _stat("enrol_mean", enrol_mean, (m,), spread=False)[None, :]
        e_std = _stat("enrol_std", enrol_std, (m,), spread=True)[None, :]
        t_mean = _stat("test_mean", test_mean, (n,), spread=False)[:, None]
        t_std = _stat("test_std", test_std, (n,), spread=True)[:, None]
    elif scores.ndim <= 1:
        shape = scores.shape
        e_mean = _stat("enrol_mean", enrol_mean, shape, spread=False)
        e_std = _stat("enrol_std", enrol_std, shape, spread=True)
        t_mean = _stat("test_mean", test_mean, shape, spread=False)
        t_std = _stat("test_std", test_std, shape, spread=True)
    else:
        raise ValueError(f"asnorm: raw must be a scalar, (n,) or (n, m), got shape {scores.shape}")
    normalised: Array = 0.5 * ((scores - e_mean) / e_std + (scores - t_mean) / t_std)
    return normalised


class ASNorm:
    """Cosine scoring followed by AS-norm against one cohort.

    Vectors passed in must come from the cohort's embedder; the `*_embeddings` methods check
    that from the embeddings' model strings (EmbedderMismatch otherwise).
    """

    def __init__(self, cohort: Cohort, *, top_n: int = DEFAULT_TOP_N) -> None:
        if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 2:
            raise ConfigError(f"AS-norm top_n must be an integer >= 2, got {top_n!r}")
        if top_n > cohort.size:
            raise ConfigError(
                f"AS-norm top_n={top_n} exceeds the cohort size {cohort.size} ({cohort.model})"
            )
        self.cohort = cohort
        self.top_n = top_n

    @property
    def model(self) -> str:
        """`id@version` of the cohort's embedder."""
        return self.cohort.model

    def stats(self, vectors: npt.ArrayLike) -> tuple[Array, Array]:
        """Top-N cohort (mean, std) for (n, d) vectors; store an enrolment's with it."""
        return self.cohort.top_stats(vectors, self.top_n)

    def score_matrix(self, test_vecs: npt.ArrayLike, enrol_vecs: npt.ArrayLike) -> Array:
        """Normalised scores of every test (n, d) against every enrolment (m, d): (n, m)."""
        raw = cosine_matrix(test_vecs, enrol_vecs)
        t_mean, t_std = self.stats(test_vecs)
        e_mean, e_std = self.stats(enrol_vecs)
        return asnorm(raw, e_mean, e_std, t_mean, t_std)

    def score_pairs(self, test_vecs: npt.ArrayLike, enrol_vecs: npt.ArrayLike) -> Array:
        """Normalised scores of aligned trial pairs: test (n, d), enrol (n, d) -> (n,)."""
        raw = cosine_pairs(test_vecs, enrol_vecs)
        t_mean, t_std = self.stats(test_vecs)
        e_mean, e_std = self.stats(enrol_vecs)
        return asnorm(raw, e_mean, e_std, t_mean, t_std)

    def score_embeddings(self, test: Sequence[Embedding], enrol: Sequence[Embedding]) -> Array:
        """`score_matrix` for embeddings, after checking all share the cohort's model."""
        if not test or not enrol:
            raise ValueError("score_embeddings: need at least one test and one enrol embedding")
        require_same_embedder(self.model, *(e.model for e in test), *(e.model for e in enrol))
        return self.score_matrix(
            np.stack([e.vector for e in test]), np.stack([e.vector for e in enrol])
        )
