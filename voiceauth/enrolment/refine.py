"""Refinement: move a voiceprint towards a later verified call's speech, within bounds.

Voices drift with age, health and handsets, so a voiceprint that learns from calls that were
verified anyway stays accurate. Two bounds stop it from drifting to someone else (template
poisoning, one bad call at a time): one call moves the print by at most `max_share` of the
way to its embedding, and the print's weight is capped, so old speech never outweighs all new
speech but no single call dominates either.
"""

from __future__ import annotations

import numpy as np

from voiceauth.embeddings.base import Vector


def _unit(vector: Vector) -> Vector:
    v = np.asarray(vector, dtype=np.float64)
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def refine_vector(
    old: Vector,
    old_weight_s: float,
    new: Vector,
    new_weight_s: float,
    *,
    max_share: float,
    max_weight_s: float,
) -> tuple[Vector, float]:
    """The refined vector (unit length) and its weight in seconds.

    Speech-weighted mean of the length-normalised vectors, with the old weight capped at
    max_weight_s and the new share capped at max_share; the returned weight is also capped.
    """
    if old.shape != new.shape:
        raise ValueError(f"refine: shapes differ ({old.shape} vs {new.shape})")
    if old_weight_s < 0 or new_weight_s < 0 or max_weight_s <= 0:
        raise ValueError("refine: weights must be >= 0 and max_weight_s > 0")
    old_w = min(old_weight_s, max_weight_s)
    total = old_w + new_weight_s
    share = 0.0 if total == 0 else min(new_weight_s / total, max_share)
    mixed = (1.0 - share) * _unit(old).astype(np.float64) + share * _unit(new).astype(np.float64)
    return _unit(mixed.astype(np.float32)), min(old_weight_s + new_weight_s, max_weight_s)
