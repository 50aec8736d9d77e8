import numpy as np
import pytest

from voiceauth.scoring.scores import as_scores, check_cost, check_probability


def test_as_scores_returns_float64_and_keeps_infinities() -> None:
    out = as_scores("tar", [1, np.inf, -np.inf])
    assert out.dtype == np.float64
    assert out.tolist() == [1.0, np.inf, -np.inf]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], r"tar: no scores \(empty array\)"),
        ([1.0, np.nan, np.nan], r"tar: 2 NaN score\(s\)"),
        ([[1.0]], r"tar: expected a 1-D array of scores, got shape \(1, 1\)"),
    ],
)
def test_as_scores_refuses_bad_input_with_its_name(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        as_scores("tar", value)  # type: ignore[arg-type]


def test_probability_and_cost_bounds() -> None:
    assert check_probability("p", 0.25) == 0.25
    for bad in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="p must be strictly between 0 and 1"):
            check_probability("p", bad)
    assert check_cost("c", 10) == 10.0
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="c must be a finite cost > 0"):
            check_cost("c", bad)
