"""Integer-factor downsampling of audio that arrives in chunks (16 kHz frames to 8 kHz).

Resampling each frame on its own puts a filter edge at every frame boundary (clicks every
20 ms). This keeps the anti-aliasing filter's state and the decimation phase across chunks, so
any chunking of a stream gives exactly the samples of the whole stream filtered at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import firwin, lfilter

from voiceauth.errors import AudioFormatError

TAPS = 65
"""Linear-phase FIR length: a delay of 32 input samples (2 ms at 16 kHz), a whole number of
output samples for factors 2 and 4, with > 50 dB stop band."""
PASSBAND = 0.9
"""Cut-off as a fraction of the output's Nyquist frequency (3.6 kHz for 8 kHz out)."""


class Decimator:
    """Feed (n,) int16 chunks at `factor` times the output rate; get int16 at the output rate."""

    def __init__(self, factor: int) -> None:
        if factor < 1:
            raise AudioFormatError(f"decimation factor must be a positive integer, got {factor}")
        self.factor = factor
        self._taps = firwin(TAPS, PASSBAND / factor)
        self._state = np.zeros(TAPS - 1)
        self._phase = 0
        """Index, in the next chunk, of the next sample to keep."""

    def __call__(self, pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        if self.factor == 1:
            return pcm
        filtered, self._state = lfilter(self._taps, 1.0, pcm.astype(np.float64), zi=self._state)
        kept: npt.NDArray[np.float64] = np.asarray(filtered)[self._phase :: self.factor]
        self._phase = (self._phase - len(pcm)) % self.factor
        return np.clip(np.rint(kept), -32768, 32767).astype(np.int16)
