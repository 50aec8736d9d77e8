from __future__ import annotations

import numpy as np
import pytest

from voiceauth.enrolment import EnrolmentOutcome, EnrolmentPolicy, refine_vector
from voiceauth.enrolment.gates import (
    check_consistency,
    check_quality,
    check_speech,
    leave_one_out_cosines,
    speech_windows,
)
from voiceauth.errors import ConfigError


def test_speech_gate_names_the_shortfall() -> None:
    assert check_speech(20.0, 20.0) is None
    rejection = check_speech(12.34, 20.0)
    assert rejection is not None
    assert rejection.outcome is EnrolmentOutcome.INSUFFICIENT_SPEECH
    assert rejection.reason == "net speech 12.3 s < 20.0 s required"


def test_quality_gate_snr_then_clipping() -> None:
    policy = EnrolmentPolicy(min_snr_db=15.0, max_clipping_ratio=0.01)
    assert check_quality(15.0, 0.01, policy) is None
    snr = check_quality(9.0, 0.0, policy)
    clip = check_quality(30.0, 0.02, policy)
    assert snr is not None and snr.outcome is EnrolmentOutcome.LOW_QUALITY
    assert "SNR 9.0 dB < 15.0 dB" in snr.reason
    assert clip is not None and "clipping 2.00% > 1.00%" in clip.reason


def test_windows_join_short_and_split_long_pieces() -> None:
    pieces = [np.ones(2, np.float32), np.ones(3, np.float32), np.ones(12, np.float32)]
    windows = speech_windows(pieces, window=5)
    assert [len(w) for w in windows] == [5, 5, 7]
    assert [len(w) for w in speech_windows([np.ones(3, np.float32)], window=5)] == [3]
    assert speech_windows([], window=5) == []
    with pytest.raises(ValueError, match="window must be positive"):
        speech_windows(pieces, window=0)


def test_leave_one_out_matches_a_loop() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((5, 8))
    expected = []
    for i in range(5):
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        others = np.delete(unit, i, axis=0).mean(axis=0)
        expected.append(unit[i] @ others / np.linalg.norm(others))
    np.testing.assert_allclose(leave_one_out_cosines(vectors), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="k >= 2"):
        leave_one_out_cosines(vectors[:1])


def test_consistency_gate_names_the_worst_window() -> None:
    assert check_consistency([0.9, 0.85], 0.8) is None
    assert check_consistency([], 0.8) is None
    rejection = check_consistency([0.9, 0.5, 0.7], 0.8)
    assert rejection is not None and rejection.outcome is EnrolmentOutcome.INCONSISTENT_SPEAKER
    assert "window 2 of 3" in rejection.reason and "0.50 < 0.80" in rejection.reason


def test_refine_is_bounded_and_hand_checked() -> None:
    old = np.array([1.0, 0.0], np.float32)
    new = np.array([0.0, 2.0], np.float32)
    # 30 s old + 10 s new: share 0.25 (within the 0.5 cap), weight 40 s.
    vector, weight = refine_vector(old, 30.0, new, 10.0, max_share=0.5, max_weight_s=100.0)
    expected = np.array([0.75, 0.25]) / np.hypot(0.75, 0.25)
    np.testing.assert_allclose(vector, expected, rtol=1e-6)
    assert weight == 40.0
    # A long call cannot take over: its share is capped, and the weight too.
    vector, weight = refine_vector(old, 30.0, new, 300.0, max_share=0.2, max_weight_s=100.0)
    np.testing.assert_allclose(vector, np.array([0.8, 0.2]) / np.hypot(0.8, 0.2), rtol=1e-6)
    assert weight == 100.0
    # An old print at the cap still lets new speech in: 10 / (100 + 10).
    vector, _ = refine_vector(old, 1000.0, new, 10.0, max_share=0.5, max_weight_s=100.0)
    share = 10 / 110
    np.testing.assert_allclose(vector[1] / vector[0], share / (1 - share), rtol=1e-5)


def test_policy_validation() -> None:
    assert EnrolmentPolicy().min_net_speech_s == 20.0
    with pytest.raises(ConfigError, match="min_net_speech_s must be > 0"):
        EnrolmentPolicy(min_net_speech_s=0)
    with pytest.raises(ConfigError, match="max_clipping_ratio must be in"):
        EnrolmentPolicy(max_clipping_ratio=2)
    with pytest.raises(ConfigError, match="consistency_threshold must be a cosine"):
        EnrolmentPolicy(consistency_threshold=1.5)
    with pytest.raises(ConfigError, match="not a finite number"):
        EnrolmentPolicy(min_snr_db=float("nan"))
