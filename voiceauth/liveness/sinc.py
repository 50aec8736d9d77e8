"""Fixed mel-spaced sinc band-pass filterbank: the first layer of AASIST.

AASIST (Jung et al., ICASSP 2022, §2.1) takes the raw waveform through a bank of band-pass
filters, as RawNet2 (Tak et al., ICASSP 2021) does. Each filter is an ideal band-pass (the
difference of two sinc low-passes, Ravanelli & Bengio's SincNet) whose band edges are equally
spaced on the mel scale from 0 Hz to Nyquist, Hamming-windowed to tame the ripple. The bank is
*not* learned: it is rebuilt from these rules, which is why it has no entry in a state_dict and
why the rules must match the ones the published weights were trained behind.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional

MEL_SCALE = 2595.0
"""O'Shaughnessy's mel formula: mel = 2595 log10(1 + f / 700)."""
MEL_BREAK_HZ = 700.0


def hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Mel value of frequencies in Hz (O'Shaughnessy 1987)."""
    return MEL_SCALE * np.log10(1.0 + hz / MEL_BREAK_HZ)


def mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Inverse of `hz_to_mel`."""
    return MEL_BREAK_HZ * (10.0 ** (mel / MEL_SCALE) - 1.0)


def mel_sinc_bank(n_filters: int, kernel_size: int, sample_rate: int) -> npt.NDArray[np.float32]:
    """(n_filters, kernel_size) impulse responses of the fixed band-pass bank.

    kernel_size must be odd (a symmetric, linear-phase filter centred on a tap). Filter i passes
    the band between the i-th and (i+1)-th of n_filters + 1 mel-equidistant edges in
    [0, sample_rate / 2]; its response is 2 f_hi sinc(2 f_hi t) - 2 f_lo sinc(2 f_lo t) (t in
    samples, frequencies normalised by sample_rate), times a symmetric Hamming window.
    """
    if kernel_size % 2 == 0:
        raise ValueError(f"sinc kernel size must be odd, got {kernel_size}")
    top = hz_to_mel(np.array([sample_rate / 2.0]))[0]
    edges = mel_to_hz(np.linspace(0.0, top, n_filters + 1))
    half = (kernel_size - 1) / 2
    taps = np.arange(-half, half + 1)
    window = np.hamming(kernel_size)
    bank = np.empty((n_filters, kernel_size), dtype=np.float64)
    for i in range(n_filters):
        low, high = edges[i] / sample_rate, edges[i + 1] / sample_rate
        bank[i] = window * (2 * high * np.sinc(2 * high * taps) - 2 * low * np.sinc(2 * low * taps))
    return bank.astype(np.float32)


class SincFilterbank(nn.Module):
    """Raw waveform (batch, samples) -> band-passed signals (batch, n_filters, samples - K + 1).

    `first_conv` of the AASIST configuration is the requested kernel length; an even length is
    made odd by one tap (as the published model does), so 128 becomes 129. No padding: the
    output is shorter than the input by kernel_size - 1 samples, which fixes the node counts
    downstream (23 spectral nodes for 70 filters).
    """

    bank: torch.Tensor

    def __init__(self, n_filters: int, first_conv: int, sample_rate: int) -> None:
        super().__init__()
        kernel_size = first_conv + 1 if first_conv % 2 == 0 else first_conv
        weights = torch.from_numpy(mel_sinc_bank(n_filters, kernel_size, sample_rate))
        # Not persistent: the bank is a function of the configuration, not a trained weight.
        self.register_buffer("bank", weights.unsqueeze(1), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return functional.conv1d(waveform.unsqueeze(1), self.bank)
