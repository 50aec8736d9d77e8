"""Fit a spoof-aware fusion on held-out trials: soft-minimum parameters, then thresholds.

Fit on trials whose speakers (and ideally sources) are disjoint from those it will be graded
on, with LLRs from calibrations that were not fitted on them either (`voiceauth eval` does this
by speaker folds). The thresholds are empirical quantiles of the fitting trials at the
operating points; where a class is too small to resolve a rate (fewer than 1 / rate trials),
the threshold falls back to "beyond every trial of that class", the strictest reading.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from voiceauth.fusion.model import OperatingPoints, SpoofAwareFusion, Thresholds
from voiceauth.fusion.softmin import fit_softmin, fused_llr
from voiceauth.scoring.threshold import min_non_targets, threshold_at_fmr


def upper_threshold(values: npt.ArrayLike, rate: float) -> float:
    """Smallest t with mean(values >= t) <= rate; above max(values) when rate is unresolvable."""
    scores = np.asarray(values, dtype=np.float64)
    if scores.size < min_non_targets(rate):
        return float(np.nextafter(scores.max(), math.inf))
    return threshold_at_fmr(scores, rate)


def lower_threshold(values: npt.ArrayLike, rate: float) -> float:
    """Largest t with mean(values <= t) <= rate (the mirror image of `upper_threshold`)."""
    return -upper_threshold(-np.asarray(values, dtype=np.float64), rate)


def fit_fusion(
    voice_llr: npt.ArrayLike,
    cm_llr: npt.ArrayLike,
    target: npt.ArrayLike,
    spoof: npt.ArrayLike,
    *,
    voice_model: str,
    cm_model: str,
    fitted_on: str,
    created: str,
    points: OperatingPoints | None = None,
) -> SpoofAwareFusion:
    """Fit on (n,) calibrated voice and countermeasure LLRs of target, non-target and spoof
    trials (`target`, `spoof`: (n,) bool; neither = non-target); points default to
    `OperatingPoints()`."""
    points = points or OperatingPoints()
    v = np.asarray(voice_llr, dtype=np.float64)
    c = np.asarray(cm_llr, dtype=np.float64)
    is_target = np.asarray(target, dtype=bool)
    is_spoof = np.asarray(spoof, dtype=bool) & ~is_target
    params = fit_softmin(v, c, is_target, is_spoof)
    fused = fused_llr(params, v, c)
    accept = max(
        upper_threshold(fused[~is_target & ~is_spoof], points.accept_fmr),
        upper_threshold(fused[is_spoof], points.accept_spoof_rate),
    )
    reject = min(lower_threshold(fused[is_target], points.reject_fnmr), accept)
    thresholds = Thresholds(
        accept=accept,
        reject=reject,
        spoof=lower_threshold(c[is_target], points.spoof_bonafide_rate),
    )
    return SpoofAwareFusion(
        voice_model=voice_model,
        cm_model=cm_model,
        params=params,
        thresholds=thresholds,
        operating_points=points,
        fitted_on=fitted_on,
        created=created,
    )
