"""Conversion between float samples and 16-bit linear PCM.

Float samples are in [-1, 1] with full scale at 1.0; 16-bit PCM is the integer form that codecs
(G.711) and wire formats carry. One scale, 32768, is used both ways, so that every int16 value
round-trips exactly through float32 and back.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceauth.errors import AudioFormatError

PCM16_SCALE = 32768.0
"""Float full scale (1.0) in int16 steps: -1.0 maps to -32768, 1.0 clips to 32767."""


def float_to_pcm16(x: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    """Quantise float samples to int16, clipping at full scale and rounding to nearest.

    x: float samples, nominally in [-1, 1]; values beyond are clipped, as an ADC would.
    Rounding (half to even) rather than truncation keeps the quantisation error zero-mean.
    Raises AudioFormatError on NaN or infinity, which have no PCM value.
    """
    samples = np.asarray(x)
    if not np.issubdtype(samples.dtype, np.floating):
        raise AudioFormatError(f"float_to_pcm16 expects float samples, got {samples.dtype}")
    if not np.all(np.isfinite(samples)):
        raise AudioFormatError("float_to_pcm16: non-finite samples (NaN or inf) have no PCM value")
    scaled = np.rint(samples.astype(np.float64) * PCM16_SCALE)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def pcm16_to_float(x: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """Scale int16 PCM to float32 in [-1, 1) (divide by 32768); exact for every int16 value."""
    samples = np.asarray(x)
    if samples.dtype != np.int16:
        raise AudioFormatError(f"pcm16_to_float expects int16 samples, got {samples.dtype}")
    return (samples.astype(np.float32) / np.float32(PCM16_SCALE)).astype(np.float32)
