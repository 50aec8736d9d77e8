import numpy as np
import pytest

from voiceauth.scoring.cosine import cosine_matrix, cosine_pairs, l2_normalise


def test_l2_normalise_rows_have_unit_length_and_keep_direction() -> None:
    x = np.array([[3.0, 4.0], [0.0, -2.0]])
    out = l2_normalise(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, -1.0]])
    np.testing.assert_allclose(l2_normalise([3.0, 4.0]), [0.6, 0.8])


def test_l2_normalise_refuses_zero_and_nan_vectors() -> None:
    with pytest.raises(ValueError, match=r"zero vector\(s\) at row\(s\) \[1\]"):
        l2_normalise([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="NaN or infinity"):
        l2_normalise([[np.nan, 1.0]])


def test_cosine_matrix_matches_hand_values_and_ignores_norm() -> None:
    test = np.array([[1.0, 0.0], [1.0, 1.0]])
    enrol = np.array([[10.0, 0.0], [0.0, 0.5], [-1.0, -1.0]])
    scores = cosine_matrix(test, enrol)
    r = 1 / np.sqrt(2)
    expected = [[1.0, 0.0, -r], [r, r, -1.0]]
    assert scores.shape == (2, 3)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def test_cosine_pairs_equals_diagonal_of_matrix() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 8)).astype(np.float32)
    b = rng.normal(size=(5, 8)).astype(np.float32)
    np.testing.assert_allclose(cosine_pairs(a, b), np.diag(cosine_matrix(a, b)), atol=1e-12)


def test_dimension_and_shape_mismatches_are_named() -> None:
    with pytest.raises(ValueError, match="test dimension 3 != enrol dimension 4"):
        cosine_matrix(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"shapes differ, a \(2, 3\) vs b \(3, 3\)"):
        cosine_pairs(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"expected a \(n, d\) array"):
        cosine_matrix(np.ones(3), np.ones((2, 3)))
