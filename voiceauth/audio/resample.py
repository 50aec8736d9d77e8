"""Sample-rate conversion between the rates audio arrives at and the rates models run at.

Polyphase filtering (`scipy.signal.resample_poly`) with the exact rational ratio: no drift in
length, a Kaiser-windowed anti-aliasing filter, and no FFT of the whole signal.
"""

from __future__ import annotations

from math import gcd

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

from voiceauth.audio.io import Audio
from voiceauth.errors import AudioFormatError


def resample(
    samples: npt.NDArray[np.float32], from_rate: int, to_rate: int
) -> npt.NDArray[np.float32]:
    """Convert (n,) float32 samples from from_rate to to_rate Hz; returns float32.

    Output length is ceil(n * to_rate / from_rate). Equal rates return the samples unchanged
    (as float32), so callers need not special-case them.
    """
    if from_rate <= 0 or to_rate <= 0:
        raise AudioFormatError(f"sample rates must be positive, got {from_rate} -> {to_rate} Hz")
    array = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return array
    divisor = gcd(from_rate, to_rate)
    converted = resample_poly(array, to_rate // divisor, from_rate // divisor)
    return np.asarray(converted, dtype=np.float32)


def to_rate(audio: Audio, rate: int) -> Audio:
    """The same audio at `rate` Hz (the object itself when it already is)."""
    if audio.sample_rate == rate:
        return audio
    return Audio(samples=resample(audio.samples, audio.sample_rate, rate), sample_rate=rate)
