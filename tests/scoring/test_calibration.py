import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voiceauth.errors import ConfigError, EmbedderMismatch
from voiceauth.scoring.calibration import (
    CALIBRATION_FORMAT_VERSION,
    MIN_SPEECH_S,
    Calibration,
    calibration_features,
    fit_calibration,
)
from voiceauth.scoring.metrics import cllr, min_cllr

MU_TAR, MU_NON, SIGMA = 0.6, 0.1, 0.15
# Equal-variance Gaussians: LLR(x) = (mu1 - mu0) / s^2 * x - (mu1^2 - mu0^2) / (2 s^2).
SLOPE = (MU_TAR - MU_NON) / SIGMA**2  # 22.2
OFFSET = -(MU_TAR**2 - MU_NON**2) / (2 * SIGMA**2)  # -7.78


def _synthetic(
    seed: int, n_tar: int = 2000, n_non: int = 8000, snr_shift: float = 0.0
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Scores of both classes shifted by snr_shift per dB of SNR; speech has no effect."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.ones(n_tar, bool), np.zeros(n_non, bool)])
    snr = rng.uniform(0.0, 30.0, labels.size)
    mean = np.where(labels, MU_TAR, MU_NON) + snr_shift * snr
    score = rng.normal(mean, SIGMA)
    speech = rng.uniform(2.0, 20.0, labels.size)
    return calibration_features(score, speech, snr), labels


def _fit(features: dict[str, np.ndarray], labels: np.ndarray, **kw: Any) -> Calibration:
    return fit_calibration(
        features, labels, model="ecapa@1", fitted_on="synthetic", created="2025-01-31", **kw
    )


def test_fit_recovers_analytic_llr_of_two_gaussians() -> None:
    features, labels = _synthetic(0)
    cal = _fit(features, labels, feature_names=("score",))
    assert cal.features == ("score",)
    (slope,) = cal.weights
    # 4:1 non-targets to targets: class balancing keeps the offset an LLR, not posterior odds.
    assert slope == pytest.approx(SLOPE, rel=0.08)
    assert cal.bias == pytest.approx(OFFSET, abs=0.6)
    grid = np.array([0.2, 0.35, 0.5])
    np.testing.assert_allclose(cal.llr({"score": grid}), SLOPE * grid + OFFSET, atol=0.3)


def test_fit_recovers_snr_dependence_and_ignores_speech() -> None:
    features, labels = _synthetic(1, snr_shift=0.01)
    cal = _fit(features, labels)
    assert cal.features == ("score", "log_speech_s", "snr_db")
    w_score, w_speech, w_snr = cal.weights
    assert w_score == pytest.approx(SLOPE, rel=0.08)
    # Both means move by 0.01 per dB, so LLR = SLOPE * (x - 0.01 snr) + OFFSET.
    assert w_snr == pytest.approx(-0.01 * SLOPE, rel=0.15)
    assert abs(w_speech) < 0.3
    held_out, held_labels = _synthetic(2, snr_shift=0.01)
    llr = cal.llr(held_out)
    tar, non = llr[held_labels], llr[~held_labels]
    # Calibrated on disjoint data, the LLRs lose little to the PAV-optimal ones.
    assert cllr(tar, non) - min_cllr(tar, non) < 0.02


def test_save_load_round_trip(tmp_path: Path) -> None:
    features, labels = _synthetic(3)
    cal = _fit(features, labels)
    path = tmp_path / "calibration.json"
    cal.save(path)
    doc = json.loads(path.read_text())
    assert doc["kind"] == "voiceauth.calibration"
    assert doc["format_version"] == CALIBRATION_FORMAT_VERSION
    loaded = Calibration.load(path)
    assert loaded == cal
    np.testing.assert_array_equal(loaded.llr(features), cal.llr(features))


def test_llr_names_missing_features_and_ignores_extras() -> None:
    cal = Calibration("ecapa@1", ("score", "snr_db"), (2.0, 0.5), -1.0, "hand", "2025-01-31")
    out = cal.llr({"score": [1.0, 0.0], "snr_db": [2.0, 4.0], "other": [9.0, 9.0]})
    np.testing.assert_allclose(out, [2.0, 1.0])
    with pytest.raises(
        ConfigError, match=r"calibration feature 'snr_db' missing; given: \['score'\]"
    ):
        cal.llr({"score": [1.0]})
    with pytest.raises(ValueError, match="'snr_db' contains NaN"):
        cal.llr({"score": [1.0], "snr_db": [np.nan]})


def test_check_model() -> None:
    cal = Calibration("ecapa@1", ("score",), (1.0,), 0.0, "hand", "2025-01-31")
    cal.check_model("ecapa@1")
    with pytest.raises(EmbedderMismatch, match="ecapa@1 cannot be compared with ge2e@1"):
        cal.check_model("ge2e@1")


def _doc(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "kind": "voiceauth.calibration",
        "model": "ecapa@1",
        "features": ["score"],
        "weights": [1.5],
        "bias": -2.0,
        "fitted_on": "hand",
        "created": "2025-01-31",
        "format_version": 1,
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_doc(format_version=2), "format_version 2, this voiceauth reads 1"),
        (_doc(kind="voiceauth.cohort"), "kind 'voiceauth.cohort'"),
        (_doc(extra=1), r"unknown fields \['extra'\]"),
        ({k: v for k, v in _doc().items() if k != "bias"}, r"missing fields \['bias'\]"),
        (_doc(weights=[1.0, 2.0]), "2 weights for 1 features"),
        (_doc(weights=["1.0"]), "weights and bias must be numbers"),
        (_doc(created="yesterday"), "created='yesterday' is not an ISO date"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_load_refuses_bad_files(tmp_path: Path, doc: object, message: str) -> None:
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=message):
        Calibration.load(path)


def test_load_refuses_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Calibration.load(path)


def test_fit_refuses_unusable_data() -> None:
    features, labels = _synthetic(4, n_tar=50, n_non=50)
    with pytest.raises(ConfigError, match="'snr_db' missing"):
        _fit({"score": features["score"]}, labels, feature_names=("score", "snr_db"))
    constant = {**features, "snr_db": np.full(labels.size, 20.0)}
    with pytest.raises(ConfigError, match="'snr_db' is constant"):
        _fit(constant, labels)
    with pytest.raises(ValueError, match="need both classes, got 0 targets"):
        _fit(features, np.zeros(labels.size, bool))
    with pytest.raises(ValueError, match="labels must be boolean or 0/1"):
        _fit(features, np.full(labels.size, 2))


def test_calibration_features_clamps_speech_and_snr_is_optional() -> None:
    feats = calibration_features([0.5, 0.6], [0.0, math.e], [10.0, 20.0])
    np.testing.assert_allclose(feats["log_speech_s"], [math.log(MIN_SPEECH_S), 1.0])
    np.testing.assert_allclose(feats["snr_db"], [10.0, 20.0])
    assert set(calibration_features(0.5, 3.0)) == {"score", "log_speech_s"}
