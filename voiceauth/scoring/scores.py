"""Validation of score arrays, shared by the metrics and the threshold search.

A NaN score sorts arbitrarily and silently corrupts every error rate computed from it, and an
empty array has no error rate at all, so both are refused with the argument named.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]


def as_scores(name: str, x: npt.ArrayLike) -> Scores:
    """`x` as a non-empty 1-D float64 array without NaN (infinities are allowed).

    Raises ValueError naming `name` otherwise.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of scores, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: no scores (empty array)")
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name}: {int(np.isnan(arr).sum())} NaN score(s)")
    return arr


def check_probability(name: str, p: float) -> float:
    """`p` as a float strictly between 0 and 1, else ValueError naming `name`."""
    value = float(p)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {p!r}")
    return value


def check_cost(name: str, c: float) -> float:
    """`c` as a finite float > 0, else ValueError naming `name`."""
    value = float(c)
    if not (np.isfinite(value) and value > 0.0):
        raise ValueError(f"{name} must be a finite cost > 0, got {c!r}")
    return value
