from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voiceauth.embeddings.base import Embedding
from voiceauth.errors import ConfigError, EmbedderMismatch
from voiceauth.scoring.cohort import COHORT_FORMAT_VERSION, COHORT_KIND, Cohort


def _embeddings(n: int, dim: int = 16, *, version: str = "1", seed: int = 0) -> list[Embedding]:
    rng = np.random.default_rng(seed)
    return [
        Embedding("ecapa", version, rng.normal(size=dim).astype(np.float32), 5.0) for _ in range(n)
    ]


def _top_stats_by_sort(
    cohort_vecs: np.ndarray, queries: np.ndarray, top_n: int
) -> tuple[np.ndarray, np.ndarray]:
    c = cohort_vecs / np.linalg.norm(cohort_vecs, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    top = -np.sort(-(q @ c.T), axis=1)[:, :top_n]
    return top.mean(axis=1), top.std(axis=1)


def test_cohort_from_embeddings_knows_model_size_and_dimension() -> None:
    cohort = Cohort.from_embeddings(_embeddings(40))
    assert cohort.model == "ecapa@1"
    assert cohort.size == 40
    assert cohort.dimension == 16
    np.testing.assert_allclose(np.linalg.norm(cohort.vectors, axis=1), 1.0, rtol=1e-6)


def test_top_stats_matches_numpy_sort() -> None:
    embeddings = _embeddings(300)
    cohort = Cohort.from_embeddings(embeddings)
    queries = np.random.default_rng(7).normal(size=(9, 16))
    mean, std = cohort.top_stats(queries, 25)
    want_mean, want_std = _top_stats_by_sort(np.stack([e.vector for e in embeddings]), queries, 25)
    assert mean.shape == std.shape == (9,)
    assert mean.dtype == np.float64
    np.testing.assert_allclose(mean, want_mean, atol=1e-6)
    np.testing.assert_allclose(std, want_std, atol=1e-6)


def test_top_stats_with_top_n_equal_to_size_is_the_whole_cohort() -> None:
    cohort = Cohort(np.eye(3), model="m@1")
    mean, std = cohort.top_stats(np.array([[1.0, 0.0, 0.0]]), 3)
    np.testing.assert_allclose(mean, [1 / 3], atol=1e-7)
    np.testing.assert_allclose(std, [np.std([1.0, 0.0, 0.0])], atol=1e-7)


def test_mixed_models_and_empty_cohorts_are_refused() -> None:
    with pytest.raises(EmbedderMismatch, match="ecapa@1 cannot be compared with ecapa@2"):
        Cohort.from_embeddings(_embeddings(2) + _embeddings(1, version="2"))
    with pytest.raises(ConfigError, match="at least one embedding"):
        Cohort.from_embeddings([])
    with pytest.raises(ConfigError, match="non-empty"):
        Cohort(np.zeros((0, 4)), model="m@1")
    with pytest.raises(ConfigError, match="differing shapes"):
        Cohort.from_embeddings(_embeddings(2) + _embeddings(1, dim=8))


def test_top_stats_checks_dimension_and_top_n() -> None:
    cohort = Cohort.from_embeddings(_embeddings(10))
    with pytest.raises(ValueError, match=r"dimension 8, cohort \(ecapa@1\) has dimension 16"):
        cohort.top_stats(np.ones((2, 8)), 5)
    with pytest.raises(ConfigError, match="top_n=11 must be between 2 and the cohort size 10"):
        cohort.top_stats(np.ones((2, 16)), 11)
    with pytest.raises(ConfigError, match="top_n=1 must be between 2"):
        cohort.top_stats(np.ones((2, 16)), 1)


def test_check_model() -> None:
    cohort = Cohort.from_embeddings(_embeddings(3))
    cohort.check_model("ecapa@1")
    with pytest.raises(EmbedderMismatch):
        cohort.check_model("ge2e@1")


def test_save_load_round_trip_keeps_exact_path(tmp_path: Path) -> None:
    cohort = Cohort.from_embeddings(_embeddings(50))
    path = tmp_path / "cohort-ecapa"
    cohort.save(path)
    assert path.exists()
    loaded = Cohort.load(path)
    assert loaded.model == cohort.model
    np.testing.assert_allclose(loaded.vectors, cohort.vectors, atol=1e-7)
    queries = np.random.default_rng(3).normal(size=(4, 16))
    np.testing.assert_allclose(loaded.top_stats(queries, 10), cohort.top_stats(queries, 10))


def _write_npz(path: Path, **fields: Any) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, **fields)


def test_load_refuses_foreign_and_future_files(tmp_path: Path) -> None:
    good = {
        "kind": np.array(COHORT_KIND),
        "format_version": np.array(COHORT_FORMAT_VERSION),
        "model": np.array("m@1"),
        "vectors": np.eye(3, dtype=np.float32),
    }
    path = tmp_path / "c.npz"
    _write_npz(path, **{**good, "format_version": np.array(99)})
    with pytest.raises(ConfigError, match="format_version 99, this voiceauth reads 1"):
        Cohort.load(path)
    _write_npz(path, **{**good, "kind": np.array("something.else")})
    with pytest.raises(ConfigError, match="kind 'something.else'"):
        Cohort.load(path)
    _write_npz(path, **{k: v for k, v in good.items() if k != "model"})
    with pytest.raises(ConfigError, match="lacks field 'model'"):
        Cohort.load(path)
    _write_npz(path, **{**good, "model": np.array(["m@1", None], dtype=object)})
    with pytest.raises(ConfigError, match="pickled"):
        Cohort.load(path)
    np.save(tmp_path / "single.npy", np.eye(3))
    with pytest.raises(ConfigError, match="single array"):
        Cohort.load(tmp_path / "single.npy")
