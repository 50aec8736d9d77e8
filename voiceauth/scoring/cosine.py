"""Cosine scoring of speaker embeddings.

Embeddings from margin-trained networks (ECAPA, GE2E) encode identity in direction, not norm, so
the raw score is the cosine between length-normalised vectors. Everything is float64 so that
AS-norm statistics and calibration do not inherit float32 rounding.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


def _as_rows(name: str, x: npt.ArrayLike) -> Matrix:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a (n, d) array of embeddings, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name}: embeddings have dimension 0")
    return arr


def l2_normalise(x: npt.ArrayLike) -> Matrix:
    """Scale each vector (the last axis) to unit Euclidean length.

    x: (d,) or (n, d). A zero or non-finite vector raises ValueError: it has no direction, and a
    silent NaN or 0 score would pass for a real comparison.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[-1] == 0:
        raise ValueError(f"l2_normalise: expected (d,) or (n, d) with d > 0, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("l2_normalise: vectors contain NaN or infinity")
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    if np.any(norms == 0.0):
        bad = np.flatnonzero(norms.reshape(-1) == 0.0)
        raise ValueError(f"l2_normalise: zero vector(s) at row(s) {bad[:5].tolist()}")
    normalised: Matrix = arr / norms
    return normalised


def cosine_matrix(test: npt.ArrayLike, enrol: npt.ArrayLike) -> Matrix:
    """All-against-all cosines: test (n, d) x enrol (m, d) -> (n, m) float64 in [-1, 1]."""
    t = _as_rows("cosine_matrix test", test)
    e = _as_rows("cosine_matrix enrol", enrol)
    if t.shape[1] != e.shape[1]:
        raise ValueError(
            f"cosine_matrix: test dimension {t.shape[1]} != enrol dimension {e.shape[1]}"
        )
    scores: Matrix = l2_normalise(t) @ l2_normalise(e).T
    return scores


def cosine_pairs(a: npt.ArrayLike, b: npt.ArrayLike) -> Matrix:
    """Row-wise cosines of aligned trial pairs: a (n, d), b (n, d) -> (n,) float64."""
    left = _as_rows("cosine_pairs a", a)
    right = _as_rows("cosine_pairs b", b)
    if left.shape != right.shape:
        raise ValueError(f"cosine_pairs: shapes differ, a {left.shape} vs b {right.shape}")
    scores: Matrix = np.einsum("ij,ij->i", l2_normalise(left), l2_normalise(right))
    return scores
