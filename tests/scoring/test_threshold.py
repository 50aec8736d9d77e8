import math

import numpy as np
import pytest

from voiceauth.scoring.threshold import bayes_threshold, min_non_targets, threshold_at_fmr


def _fmr(non: np.ndarray, threshold: float) -> float:
    return float(np.mean(non >= threshold))


def test_threshold_at_fmr_on_known_array() -> None:
    non = np.arange(1.0, 11.0)  # 1..10, ten non-targets
    # FMR <= 0.2 allows two accepted (9, 10): the threshold must exceed 8, smallest such float.
    t = threshold_at_fmr(non, 0.2)
    assert t == np.nextafter(8.0, np.inf)
    assert _fmr(non, t) == pytest.approx(0.2)
    assert _fmr(non, np.nextafter(t, -np.inf)) == pytest.approx(0.3)
    # FMR <= 0.1: one accepted (10), threshold just above 9; order of the input is irrelevant.
    assert threshold_at_fmr(non[::-1], 0.1) == np.nextafter(9.0, np.inf)


def test_threshold_at_fmr_with_ties_stays_under_target() -> None:
    non = np.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0])
    # FMR <= 0.2 allows two, but three share 5.0: all three must go, FMR 0.
    t = threshold_at_fmr(non, 0.2)
    assert t == np.nextafter(5.0, np.inf)
    assert _fmr(non, t) == 0.0


def test_threshold_at_fmr_rate_uses_slack_for_float_products() -> None:
    # 0.29 * 100 = 28.999999999999996 in floats; 29 accepted non-targets are allowed.
    non = np.arange(100.0)
    t = threshold_at_fmr(non, 0.29)
    assert _fmr(non, t) == pytest.approx(0.29)


def test_threshold_at_fmr_needs_enough_non_targets() -> None:
    assert min_non_targets(0.001) == 1000
    assert min_non_targets(0.001, min_errors=30) == 30000
    with pytest.raises(
        ValueError,
        match=r"999 non-target scores cannot resolve FMR 0.001; "
        r"need at least 1000 \(ceil\(1 / target_fmr\)\)",
    ):
        threshold_at_fmr(np.zeros(999), 0.001)
    assert math.isfinite(threshold_at_fmr(np.linspace(0, 1, 1000), 0.001))
    with pytest.raises(ValueError, match="need at least 60"):
        threshold_at_fmr(np.zeros(59), 0.05, min_errors=3)


def test_threshold_at_fmr_refuses_bad_rates_and_scores() -> None:
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="target_fmr must be strictly between 0 and 1"):
            threshold_at_fmr(np.arange(10.0), bad)
    with pytest.raises(ValueError, match="non_scores: no scores"):
        threshold_at_fmr([], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        threshold_at_fmr([np.nan] * 20, 0.1)


def test_bayes_threshold() -> None:
    assert bayes_threshold(0.5) == 0.0
    # -logit(0.01) = log(99)
    assert bayes_threshold(0.01) == pytest.approx(math.log(99))
    # Costlier false alarms raise the bar by log(c_fa / c_miss).
    assert bayes_threshold(0.01, c_fa=10.0) == pytest.approx(math.log(990))
    assert bayes_threshold(0.5, c_miss=4.0) == pytest.approx(-math.log(4))
    with pytest.raises(ValueError, match="c_fa must be a finite cost > 0"):
        bayes_threshold(0.5, c_fa=0.0)
    with pytest.raises(ValueError, match="p_target must be strictly between 0 and 1"):
        bayes_threshold(1.0)
