"""The fixed sinc filterbank: odd symmetric kernels, mel-spaced bands, each passing its band."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voiceauth.liveness.sinc import SincFilterbank, hz_to_mel, mel_sinc_bank, mel_to_hz


def test_mel_round_trip_and_anchor() -> None:
    hz = np.array([0.0, 700.0, 1000.0, 8000.0])
    assert np.allclose(mel_to_hz(hz_to_mel(hz)), hz)
    assert hz_to_mel(np.array([1000.0]))[0] == pytest.approx(1000.0, abs=0.5)


def test_each_filter_peaks_inside_its_mel_band() -> None:
    bank = mel_sinc_bank(70, 129, 16_000)
    assert bank.shape == (70, 129) and bank.dtype == np.float32
    assert np.allclose(bank, bank[:, ::-1])  # linear phase
    edges = mel_to_hz(np.linspace(0, hz_to_mel(np.array([8000.0]))[0], 71))
    response = np.abs(np.fft.rfft(bank, n=16_000, axis=1))  # 1 Hz bins
    for i in (5, 35, 69):
        peak = int(np.argmax(response[i]))
        assert edges[i] - 30 <= peak <= edges[i + 1] + 30


def test_even_first_conv_becomes_odd_and_output_loses_kernel_minus_one() -> None:
    bank = SincFilterbank(70, 128, 16_000)
    assert bank.bank.shape == (70, 1, 129)
    assert bank(torch.zeros(2, 1000)).shape == (2, 70, 1000 - 128)
    assert "bank" not in bank.state_dict()


def test_even_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="must be odd"):
        mel_sinc_bank(4, 128, 16_000)
