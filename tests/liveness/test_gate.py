"""The enrolment spoof gate: rate conversion, threshold, calibration, refusal to guess."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from voiceauth.enrolment.countermeasure import Countermeasure as EnrolmentHook
from voiceauth.errors import EmbedderMismatch, InsufficientSpeech
from voiceauth.liveness.gate import SpoofGate
from voiceauth.liveness.windowed import WindowedCountermeasure
from voiceauth.scoring.calibration import Calibration


class MeanNet(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.zeros(len(x)), x.mean(dim=1)], dim=1)


def mean_cm() -> WindowedCountermeasure:
    """Score = mean sample at 16 kHz: a constant signal scores its value."""
    return WindowedCountermeasure(
        MeanNet(),
        cm_id="mean",
        version="v1",
        sample_rate=16_000,
        window=16_000,
        min_samples=8_000,
    )


def calibration(model: str) -> Calibration:
    return Calibration(model, ("cm_score",), (2.0,), -1.0, "test", "2026-11-23")


def test_gate_converts_rate_and_thresholds_the_raw_score() -> None:
    gate: EnrolmentHook = SpoofGate(mean_cm(), threshold=0.3)
    live = gate(np.full(8_000, 0.5, dtype=np.float32), 8_000)  # 1 s at 8 kHz
    fake = gate(np.full(8_000, 0.1, dtype=np.float32), 8_000)
    assert (live.spoof, live.llr, fake.spoof) == (False, None, True)


def test_gate_decides_on_the_calibrated_llr_and_reports_it() -> None:
    gate = SpoofGate(mean_cm(), threshold=0.0, calibration=calibration("mean@v1"))
    verdict = gate(np.full(16_000, 0.25, dtype=np.float32), 16_000)  # llr = 2 * 0.25 - 1
    assert verdict.spoof and verdict.llr == pytest.approx(-0.5, abs=1e-3)


def test_gate_refuses_a_calibration_of_another_detector_and_short_speech() -> None:
    with pytest.raises(EmbedderMismatch):
        SpoofGate(mean_cm(), threshold=0.0, calibration=calibration("aasist@v1"))
    with pytest.raises(InsufficientSpeech):
        SpoofGate(mean_cm(), threshold=0.0)(np.zeros(3_000, dtype=np.float32), 8_000)
