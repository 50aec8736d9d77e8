import math

import numpy as np
import pytest
from scipy.stats import norm

from voiceauth.scoring.metrics import (
    cllr,
    det_curve,
    eer,
    fnmr_at_fmr,
    min_cllr,
    min_dcf,
    rocch,
)

# Six trials, one interleaving. Sorted: 0.1n 0.3n 0.4t 0.6n 0.7t 0.9t.
# Empirical (FMR, FNMR) as the threshold rises past each score:
#   (1,0) (2/3,0) (1/3,0) (1/3,1/3) (0,1/3) (0,2/3) (0,1).
# The convex hull skips (1/3,1/3): vertices (1,0) (1/3,0) (0,1/3) (0,1); the segment
# (1/3,0)-(0,1/3) is FNMR = 1/3 - FMR, which meets FNMR = FMR at 1/6.
TAR_A = [0.9, 0.7, 0.4]
NON_A = [0.6, 0.3, 0.1]

# Six trials, 4 targets / 2 non-targets. Sorted: 0.1n 0.2t 0.3t 0.5n 0.6t 0.8t.
# Points: (1,0) (1/2,0) (1/2,1/4) (1/2,1/2) (0,1/2) (0,3/4) (0,1).
# Hull vertices (1,0) (1/2,0) (0,1/2) (0,1); segment FNMR = 1/2 - FMR crosses at 1/4.
TAR_B = [0.8, 0.6, 0.3, 0.2]
NON_B = [0.5, 0.1]

# Six trials, alternating. Sorted: 0.1n 0.4t 0.5n 0.6t 0.85n 0.9t.
# Points: (1,0) (2/3,0) (2/3,1/3) (1/3,1/3) (1/3,2/3) (0,2/3) (0,1).
TAR_C = [0.9, 0.6, 0.4]
NON_C = [0.85, 0.5, 0.1]

TAR_D = [0.9, 0.5, 0.4]
NON_D = [0.6, 0.3, 0.1]


def test_det_curve_points_for_six_trials() -> None:
    fmr, fnmr, thresholds = det_curve(TAR_A, NON_A)
    np.testing.assert_allclose(fmr, [1, 2 / 3, 1 / 3, 1 / 3, 0, 0, 0])
    np.testing.assert_allclose(fnmr, [0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    np.testing.assert_array_equal(thresholds, [0.1, 0.3, 0.4, 0.6, 0.7, 0.9, np.inf])


def test_rocch_vertices_for_six_trials() -> None:
    fmr, fnmr = rocch(TAR_A, NON_A)
    np.testing.assert_allclose(fmr, [1, 1 / 3, 0, 0])
    np.testing.assert_allclose(fnmr, [0, 0, 1 / 3, 1])


@pytest.mark.parametrize(
    ("tar", "non", "expected"),
    [
        (TAR_A, NON_A, 1 / 6),
        (TAR_B, NON_B, 1 / 4),
        ([3, 4, 5], [0, 1, 2], 0.0),  # separated: no error at a threshold in (2, 3]
        ([0, 1, 2], [3, 4, 5], 0.5),  # reversed: the hull is the chance diagonal
        ([1, 1, 1], [1, 1, 1], 0.5),  # all tied: only accept-all and reject-all
    ],
)
def test_eer_on_six_trials(tar: list[float], non: list[float], expected: float) -> None:
    assert eer(tar, non) == pytest.approx(expected, abs=1e-12)


def test_eer_of_two_unit_gaussians_matches_theory() -> None:
    rng = np.random.default_rng(0)
    tar = rng.normal(2.0, 1.0, 20000)
    non = rng.normal(0.0, 1.0, 20000)
    # Equal variances, means 0 and 2: errors equal at threshold 1, EER = Phi(-1).
    assert eer(tar, non) == pytest.approx(norm.cdf(-1.0), abs=0.01)


def test_eer_does_not_depend_on_monotone_transforms() -> None:
    rng = np.random.default_rng(1)
    tar, non = rng.normal(1, 1, 300), rng.normal(0, 1, 500)
    assert eer(np.exp(tar), np.exp(non)) == pytest.approx(eer(tar, non), abs=1e-12)


def test_min_dcf_hand_worked() -> None:
    # p=0.5, equal costs: DCF = (FNMR + FMR)/2, normaliser min(0.5, 0.5) = 0.5,
    # so normalised DCF = FNMR + FMR. TAR_A points sum to 1, 2/3, 1/3, 2/3, 1/3, 2/3, 1 -> 1/3.
    assert min_dcf(TAR_A, NON_A, p_target=0.5) == pytest.approx(1 / 3)
    # TAR_C sums: 1, 2/3, 1, 2/3, 1, 2/3, 1 -> 2/3.
    assert min_dcf(TAR_C, NON_C, p_target=0.5) == pytest.approx(2 / 3)
    # Default p=0.01: DCF = 0.01 FNMR + 0.99 FMR, normaliser 0.01, i.e. FNMR + 99 FMR.
    # TAR_B: only FMR=0 points are cheap: (0,1/2) -> 1/2.
    assert min_dcf(TAR_B, NON_B) == pytest.approx(1 / 2)
    # TAR_D sorted: 0.1n 0.3n 0.4t 0.5t 0.6n 0.9t; points (1,0) (2/3,0) (1/3,0) (1/3,1/3)
    # (1/3,2/3) (0,2/3) (0,1). Costs move the optimum between (1/3,0) and (0,2/3):
    # p=0.5, equal costs: FNMR + FMR = 1, 2/3, 1/3, 2/3, 1, 2/3, 1 -> 1/3.
    assert min_dcf(TAR_D, NON_D, p_target=0.5) == pytest.approx(1 / 3)
    # p=0.5, c_fa=3: (0.5 FNMR + 1.5 FMR) / 0.5 = FNMR + 3 FMR = 3, 2, 1, 4/3, 5/3, 2/3, 1 -> 2/3.
    assert min_dcf(TAR_D, NON_D, p_target=0.5, c_fa=3.0) == pytest.approx(2 / 3)
    # p=0.1, c_miss=10: (1.0 FNMR + 0.9 FMR) / 0.9 = FNMR / 0.9 + FMR; (1/3,0) -> 1/3.
    assert min_dcf(TAR_D, NON_D, p_target=0.1, c_miss=10.0) == pytest.approx(1 / 3)


def test_min_dcf_is_one_for_a_useless_system_and_matches_brute_force() -> None:
    assert min_dcf([0, 1, 2], [3, 4, 5]) == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    tar, non = rng.normal(1.5, 1, 200), rng.normal(0, 1, 300)
    best = min(
        0.05 * np.mean(tar < t) + 0.95 * np.mean(non >= t)
        for t in [*np.concatenate([tar, non]), np.inf]
    )
    assert min_dcf(tar, non, p_target=0.05) == pytest.approx(best / 0.05)


def test_cllr_perfect_uninformative_and_known() -> None:
    assert cllr([np.inf, np.inf], [-np.inf]) == 0.0
    assert cllr([0.0, 0.0], [0.0]) == pytest.approx(1.0)
    # LLR +-ln 3: log2(1 + 1/3) for each class.
    assert cllr([math.log(3)], [-math.log(3)]) == pytest.approx(math.log2(4 / 3))
    # tar LLR 0 -> 1 bit; non LLR ln 3 -> log2(1 + 3) = 2 bits; mean 1.5.
    assert cllr([0.0], [math.log(3)]) == pytest.approx(1.5)


def test_min_cllr_hand_worked_and_bounded_by_cllr() -> None:
    # TAR_A labels by score: n n t n t t. PAV pools "t n" into posterior 1/2; the prior log
    # odds are 0, so LLRs are -inf, -inf, 0, 0, +inf, +inf: one target and one non-target
    # cost 1 bit each: Cllr = (1/3 + 1/3) / 2 = 1/3.
    assert min_cllr(TAR_A, NON_A) == pytest.approx(1 / 3)
    assert min_cllr([3, 4], [1, 2]) == 0.0
    assert min_cllr([1, 1], [1, 1, 1]) == pytest.approx(1.0)
    rng = np.random.default_rng(3)
    tar, non = rng.normal(2, 1, 400), rng.normal(-1, 1, 600)
    assert min_cllr(tar, non) < cllr(tar, non)
    assert min_cllr(tar, non) == pytest.approx(min_cllr(3 * tar + 1, 3 * non + 1))


def test_fnmr_at_fmr() -> None:
    non = np.arange(10, dtype=float)  # 0..9
    tar = np.array([7.5, 8.5, 9.5, 10.0])
    # FMR 0.1 over 10 non-targets: accept at most one (9); threshold just above 8.
    # Targets below it: 7.5 -> FNMR 1/4.
    assert fnmr_at_fmr(tar, non, 0.1) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="need at least 100"):
        fnmr_at_fmr(tar, non, 0.01)


@pytest.mark.parametrize("fn", [eer, min_dcf, cllr, min_cllr, det_curve])
def test_metrics_refuse_empty_and_nan(fn: object) -> None:
    with pytest.raises(ValueError, match=r"non.*: no scores \(empty array\)"):
        fn([1.0], [])  # type: ignore[operator]
    with pytest.raises(ValueError, match=r"tar.*: 1 NaN score\(s\)"):
        fn([1.0, np.nan], [0.0])  # type: ignore[operator]
