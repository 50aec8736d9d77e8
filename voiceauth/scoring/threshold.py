"""Decision thresholds: at a target false-match rate, or Bayes-optimal for calibrated LLRs.

Convention everywhere in voiceauth: a trial is *accepted* when score >= threshold.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from voiceauth.scoring.scores import as_scores, check_cost, check_probability

# target_fmr * n is compared with a small slack so that e.g. 0.29 * 100 counts as 29, not 28.
_RATE_SLACK = 1e-9


def min_non_targets(target_fmr: float, *, min_errors: int = 1) -> int:
    """Non-target trials needed before an FMR of `target_fmr` is resolvable at all.

    With fewer than ceil(min_errors / target_fmr) non-targets, even `min_errors` false matches
    would exceed the target, so the empirical threshold is just "above every impostor" and
    says nothing about the rate. For a trustworthy estimate use min_errors around 30
    (Doddington's rule of 30); the default 1 is the bare minimum.
    """
    rate = check_probability("target_fmr", target_fmr)
    if isinstance(min_errors, bool) or not isinstance(min_errors, int) or min_errors < 1:
        raise ValueError(f"min_errors must be an integer >= 1, got {min_errors!r}")
    return math.ceil(min_errors / rate - _RATE_SLACK)


def threshold_at_fmr(non_scores: npt.ArrayLike, target_fmr: float, *, min_errors: int = 1) -> float:
    """Smallest threshold whose empirical false-match rate is <= target_fmr.

    FMR(t) = #(non >= t) / n. Keeping the k = floor(target_fmr * n) highest non-targets
    accepted means rejecting the (k+1)-th highest one, s; every t in (s, next higher score]
    has the same FMR, and the smallest is the next float above s (np.nextafter). Raises
    ValueError when there are fewer than ceil(min_errors / target_fmr) non-targets.
    """
    non = as_scores("non_scores", non_scores)
    needed = min_non_targets(target_fmr, min_errors=min_errors)
    n = non.size
    if n < needed:
        raise ValueError(
            f"threshold_at_fmr: {n} non-target scores cannot resolve FMR {target_fmr:g}; "
            f"need at least {needed} (ceil({min_errors} / target_fmr))"
        )
    allowed = min(math.floor(target_fmr * n + _RATE_SLACK), n - 1)
    descending = np.sort(non)[::-1]
    rejected = float(descending[allowed])
    if rejected == math.inf:
        raise ValueError("threshold_at_fmr: non-target scores of +inf can never be rejected")
    return float(np.nextafter(rejected, math.inf))


def bayes_threshold(p_target: float, *, c_miss: float = 1.0, c_fa: float = 1.0) -> float:
    """Bayes-optimal LLR threshold: log(c_fa (1 - p_target) / (c_miss p_target)).

    Accepting when LLR >= -logit(p_target) + log(c_fa / c_miss) minimises the expected cost
    c_miss P(target) P(miss) + c_fa P(non) P(false alarm) (NIST SRE detection cost), provided
    the LLRs are calibrated.
    """
    p = check_probability("p_target", p_target)
    miss = check_cost("c_miss", c_miss)
    fa = check_cost("c_fa", c_fa)
    return math.log(fa * (1.0 - p)) - math.log(miss * p)
