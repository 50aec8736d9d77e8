import math

import numpy as np
import pytest

from voiceauth.embeddings.base import Embedding
from voiceauth.errors import ConfigError, EmbedderMismatch
from voiceauth.scoring.asnorm import ASNorm, asnorm
from voiceauth.scoring.cohort import Cohort


def _cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def _top_stats_loop(vec: list[float], cohort: list[list[float]], top_n: int) -> tuple[float, float]:
    top = sorted((_cos(vec, c) for c in cohort), reverse=True)[:top_n]
    mean = sum(top) / top_n
    return mean, math.sqrt(sum((s - mean) ** 2 for s in top) / top_n)


def _asnorm_loop(s: float, e_mean: float, e_std: float, t_mean: float, t_std: float) -> float:
    return ((s - e_mean) / e_std + (s - t_mean) / t_std) / 2


def test_asnorm_matrix_broadcasts_enrol_over_columns_and_test_over_rows() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(4, 3))
    e_mean, e_std = rng.normal(size=3), rng.uniform(0.05, 0.2, size=3)
    t_mean, t_std = rng.normal(size=4), rng.uniform(0.05, 0.2, size=4)
    out = asnorm(raw, e_mean, e_std, t_mean, t_std)
    assert out.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            want = _asnorm_loop(raw[i, j], e_mean[j], e_std[j], t_mean[i], t_std[i])
            assert out[i, j] == pytest.approx(want, rel=1e-12)


def test_asnorm_pairs_and_scalar_forms() -> None:
    raw = np.array([0.5, 0.2])
    out = asnorm(raw, [0.1, 0.3], [0.1, 0.05], [0.2, 0.0], [0.2, 0.1])
    # pair 0: ((0.5-0.1)/0.1 + (0.5-0.2)/0.2) / 2 = (4 + 1.5) / 2
    # pair 1: ((0.2-0.3)/0.05 + (0.2-0.0)/0.1) / 2 = (-2 + 2) / 2
    np.testing.assert_allclose(out, [2.75, 0.0], atol=1e-12)
    assert float(asnorm(0.5, 0.1, 0.1, 0.2, 0.2)) == pytest.approx(2.75)


def test_asnorm_refuses_misshapen_or_degenerate_stats() -> None:
    raw = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"enrol_mean has shape \(2,\), expected \(3,\)"):
        asnorm(raw, np.zeros(2), np.ones(3), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match=r"test_std must be > 0"):
        asnorm(raw, np.zeros(3), np.ones(3), np.zeros(2), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="test_mean contains NaN"):
        asnorm(np.zeros(2), np.zeros(2), np.ones(2), [0.0, np.nan], np.ones(2))


def _setup(seed: int = 0) -> tuple[list[Embedding], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cohort = [Embedding("ecapa", "1", rng.normal(size=8).astype(np.float32)) for _ in range(60)]
    return cohort, rng.normal(size=(3, 8)), rng.normal(size=(4, 8))


def test_score_matrix_equals_explicit_loop() -> None:
    cohort_embs, test, enrol = _setup()
    scorer = ASNorm(Cohort.from_embeddings(cohort_embs), top_n=10)
    out = scorer.score_matrix(test, enrol)
    cohort = [e.vector.astype(float).tolist() for e in cohort_embs]
    assert out.shape == (3, 4)
    for i, t in enumerate(test.tolist()):
        t_mean, t_std = _top_stats_loop(t, cohort, 10)
        for j, e in enumerate(enrol.tolist()):
            e_mean, e_std = _top_stats_loop(e, cohort, 10)
            want = _asnorm_loop(_cos(t, e), e_mean, e_std, t_mean, t_std)
            assert out[i, j] == pytest.approx(want, abs=1e-5)


def test_score_pairs_is_the_diagonal_of_score_matrix() -> None:
    cohort_embs, test, enrol = _setup(1)
    scorer = ASNorm(Cohort.from_embeddings(cohort_embs), top_n=5)
    pairs = scorer.score_pairs(test, enrol[:3])
    np.testing.assert_allclose(pairs, np.diag(scorer.score_matrix(test, enrol[:3])), atol=1e-12)


def test_score_embeddings_checks_models() -> None:
    cohort_embs, test, enrol = _setup(2)
    scorer = ASNorm(Cohort.from_embeddings(cohort_embs), top_n=5)
    good = [Embedding("ecapa", "1", v.astype(np.float32)) for v in test]
    out = scorer.score_embeddings(good, good[:2])
    np.testing.assert_allclose(out, scorer.score_matrix(test, test[:2]), atol=1e-6)
    other = [Embedding("ge2e", "1", v.astype(np.float32)) for v in enrol]
    with pytest.raises(EmbedderMismatch, match="ecapa@1 cannot be compared with ge2e@1"):
        scorer.score_embeddings(good, other)


def test_top_n_must_fit_the_cohort() -> None:
    cohort_embs, _, _ = _setup()
    with pytest.raises(ConfigError, match="top_n=300 exceeds the cohort size 60"):
        ASNorm(Cohort.from_embeddings(cohort_embs))
    with pytest.raises(ConfigError, match="integer >= 2"):
        ASNorm(Cohort.from_embeddings(cohort_embs), top_n=1)
