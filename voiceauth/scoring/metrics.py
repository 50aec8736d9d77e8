"""Verification metrics from target and non-target scores: EER, minDCF, Cllr, DET.

Convention: a trial is accepted when score >= threshold; "miss" = false non-match (FNMR),
"false alarm" = false match (FMR). All rates are fractions in [0, 1], not percent.

EER is the ROC convex hull EER (ROCCH-EER, as in the BOSARIS toolkit, Brümmer & de Villiers):
the point where the convex hull of the empirical (FMR, FNMR) points crosses FMR = FNMR. Every
hull point is reachable by randomising between two thresholds, the hull is what PAV-calibrated
scores achieve, and ROCCH-EER equals the worst minimum Bayes error over all priors, so it is
consistent with minDCF and min Cllr. On small sets it is lower than the "step curve" EER
(six trials 3/3 with one interleaving: 1/6 instead of 1/3).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression

from voiceauth.scoring.scores import Scores, as_scores, check_cost, check_probability
from voiceauth.scoring.threshold import threshold_at_fmr

_LN2 = math.log(2.0)


def det_curve(tar: npt.ArrayLike, non: npt.ArrayLike) -> tuple[Scores, Scores, Scores]:
    """Empirical (fmr, fnmr, thresholds), one point per distinct score plus reject-all.

    Points are in increasing threshold order (fmr falls from 1, fnmr rises to 1): at
    thresholds[i], fmr = #(non >= t) / n_non and fnmr = #(tar < t) / n_tar. The last point is
    reject-all (fmr 0, fnmr 1) with threshold +inf.
    """
    t = np.sort(as_scores("tar", tar))
    n = np.sort(as_scores("non", non))
    distinct = np.unique(np.concatenate([t, n]))
    fnmr = np.searchsorted(t, distinct, side="left") / t.size
    fmr = (n.size - np.searchsorted(n, distinct, side="left")) / n.size
    return (
        np.append(fmr, 0.0),
        np.append(fnmr, 1.0),
        np.append(distinct, math.inf),
    )


def _pav(tar: Scores, non: Scores) -> tuple[npt.NDArray[np.int64], Scores]:
    """Labels sorted by score, and their PAV (isotonic) target posterior.

    Scores enter through their dense ranks, so ties pool together and infinities are fine.
    """
    scores = np.concatenate([tar, non])
    labels = np.concatenate([np.ones(tar.size, np.int64), np.zeros(non.size, np.int64)])
    _, rank = np.unique(scores, return_inverse=True)
    order = np.argsort(rank, kind="stable")
    iso = IsotonicRegression(increasing=True)
    posterior = np.asarray(
        iso.fit_transform(rank[order].astype(np.float64), labels[order].astype(np.float64)),
        dtype=np.float64,
    )
    return labels[order], posterior


def rocch(tar: npt.ArrayLike, non: npt.ArrayLike) -> tuple[Scores, Scores]:
    """Vertices (fmr, fnmr) of the ROC convex hull, from accept-all (1, 0) to reject-all (0, 1).

    Found with PAV (pool adjacent violators): the hull's vertices are the boundaries between
    PAV blocks (Fawcett & Niculescu-Mizil 2007; BOSARIS rocch).
    """
    t = as_scores("tar", tar)
    n = as_scores("non", non)
    labels, posterior = _pav(t, n)
    starts = np.flatnonzero(np.diff(posterior) != 0.0) + 1
    cuts = np.concatenate([[0], starts, [labels.size]])
    tar_below = np.concatenate([[0], np.cumsum(labels)])[cuts]
    non_below = cuts - tar_below
    fnmr = tar_below / t.size
    fmr = (n.size - non_below) / n.size
    return fmr.astype(np.float64), fnmr.astype(np.float64)


def eer(tar: npt.ArrayLike, non: npt.ArrayLike) -> float:
    """Equal error rate (fraction) on the ROC convex hull (ROCCH-EER, see module docstring)."""
    fmr, fnmr = rocch(tar, non)
    gap = fnmr - fmr  # rises monotonically from -1 (accept-all) to +1 (reject-all)
    i = int(np.argmax(gap >= 0.0))
    if gap[i] == 0.0:
        return float(fmr[i])
    # Crossing inside the hull segment from vertex i-1 (gap < 0) to vertex i (gap > 0).
    frac = -gap[i - 1] / (gap[i] - gap[i - 1])
    return float(fmr[i - 1] + frac * (fmr[i] - fmr[i - 1]))


def min_dcf(
    tar: npt.ArrayLike,
    non: npt.ArrayLike,
    *,
    p_target: float = 0.01,
    c_miss: float = 1.0,
    c_fa: float = 1.0,
) -> float:
    """Normalised minimum detection cost (NIST SRE).

    DCF(t) = c_miss p_target FNMR(t) + c_fa (1 - p_target) FMR(t), minimised over all
    thresholds (accept-all and reject-all included) and divided by the cost of the better
    trivial system, min(c_miss p_target, c_fa (1 - p_target)); so 1.0 means useless.
    """
    p = check_probability("p_target", p_target)
    miss = check_cost("c_miss", c_miss)
    fa = check_cost("c_fa", c_fa)
    fmr, fnmr, _ = det_curve(tar, non)
    dcf = miss * p * fnmr + fa * (1.0 - p) * fmr
    return float(dcf.min() / min(miss * p, fa * (1.0 - p)))


def cllr(tar_llr: npt.ArrayLike, non_llr: npt.ArrayLike) -> float:
    """Log-likelihood-ratio cost in bits (Brümmer & du Preez, 2006).

    Cllr = (mean log2(1 + e^-llr_tar) + mean log2(1 + e^llr_non)) / 2: 0 for perfect,
    infinitely confident LLRs, 1 for the uninformative LLR 0; above 1 means the LLRs do harm.
    Measures discrimination and calibration together (natural-log LLRs expected).
    """
    t = as_scores("tar_llr", tar_llr)
    n = as_scores("non_llr", non_llr)
    miss_bits = float(np.mean(np.logaddexp(0.0, -t))) / _LN2
    fa_bits = float(np.mean(np.logaddexp(0.0, n))) / _LN2
    return 0.5 * (miss_bits + fa_bits)


def min_cllr(tar: npt.ArrayLike, non: npt.ArrayLike) -> float:
    """Cllr after optimal monotone (PAV) calibration: the discrimination-only part of Cllr.

    cllr(llr) - min_cllr(llr) is the calibration loss (Brümmer & du Preez, 2006). The PAV
    posterior is turned into an LLR by removing the empirical prior log-odds.
    """
    t = as_scores("tar", tar)
    n = as_scores("non", non)
    labels, posterior = _pav(t, n)
    with np.errstate(divide="ignore"):
        llr = np.log(posterior) - np.log1p(-posterior) - math.log(t.size / n.size)
    return cllr(llr[labels == 1], llr[labels == 0])


def fnmr_at_fmr(tar: npt.ArrayLike, non: npt.ArrayLike, fmr: float) -> float:
    """False non-match rate at the smallest threshold with empirical FMR <= `fmr`.

    The threshold comes from `threshold_at_fmr`, so the same minimum number of non-targets
    (ceil(1 / fmr)) is required.
    """
    t = as_scores("tar", tar)
    threshold = threshold_at_fmr(non, fmr)
    return float(np.mean(t < threshold))
