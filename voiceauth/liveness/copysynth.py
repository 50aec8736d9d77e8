"""Copy-synthesis: genuine speech rebuilt from its magnitude spectrogram, as a vocoder would.

Neural and classic TTS pipelines end in a vocoder that turns a (mel) magnitude spectrogram
into a waveform; re-synthesising *genuine* speech through one gives a spoof paired with its
source (same speaker, words, microphone), so a detector can only tell them apart by the
vocoder's traces (the demo pages' `_copysynth` attacks). Griffin-Lim (Griffin & Lim, "Signal
estimation from modified short-time Fourier transform", 1984) is the vocoder we can build
here: iterate STFT/ISTFT projections from a random phase. From a mel spectrogram (inverted by
the filterbank's pseudo-inverse) it is the Tacotron-with-Griffin-Lim baseline
(espnet_*_gl attacks); from the linear spectrogram it leaves only phase artefacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as taf

from voiceauth.audio.io import Audio


@dataclass(frozen=True, slots=True)
class GriffinLim:
    """n_fft / hop in samples at the audio's rate; n_mels: mel bands of the intermediate
    spectrogram (None = linear magnitude); iterations: projection rounds (fewer, rougher)."""

    n_fft: int = 1024
    hop: int = 256
    n_mels: int | None = 80
    iterations: int = 32

    @property
    def attack(self) -> str:
        """The manifest's attack id of this set-up."""
        kind = f"mel{self.n_mels}" if self.n_mels else "linear"
        return f"griffinlim_{kind}_{self.iterations}it_copysynth"


def copy_synthesise(audio: Audio, vocoder: GriffinLim, *, seed: int) -> Audio:
    """audio re-synthesised from its magnitude (or mel) spectrogram, same rate and length."""
    generator = torch.Generator().manual_seed(seed)
    window = torch.hann_window(vocoder.n_fft)
    x = torch.from_numpy(np.ascontiguousarray(audio.samples, dtype=np.float32))
    spec = torch.stft(x, vocoder.n_fft, vocoder.hop, window=window, return_complex=True)
    magnitude = spec.abs()
    if vocoder.n_mels is not None:
        bank = taf.melscale_fbanks(
            vocoder.n_fft // 2 + 1, 0.0, audio.sample_rate / 2, vocoder.n_mels, audio.sample_rate
        )
        magnitude = torch.clamp(torch.linalg.pinv(bank.T) @ (bank.T @ magnitude), min=0.0)
    phase = torch.exp(2j * torch.pi * torch.rand(magnitude.shape, generator=generator))
    signal = torch.zeros_like(x)
    for _ in range(vocoder.iterations):
        signal = torch.istft(
            magnitude * phase, vocoder.n_fft, vocoder.hop, window=window, length=len(x)
        )
        rebuilt = torch.stft(signal, vocoder.n_fft, vocoder.hop, window=window, return_complex=True)
        phase = torch.exp(1j * torch.angle(rebuilt))
    out = signal.numpy()
    peak_in = float(np.max(np.abs(audio.samples))) or 1.0
    peak_out = float(np.max(np.abs(out))) or 1.0
    return Audio(np.asarray(out * (peak_in / peak_out), dtype=np.float32), audio.sample_rate)
