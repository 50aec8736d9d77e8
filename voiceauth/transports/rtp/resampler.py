"""Streaming sample-rate conversion to 8 kHz, packet by packet, with state across packets.

`voiceauth.audio.resample` converts whole signals; an RTP stream arrives in 20 ms pieces, and
resampling each piece alone would click at every packet boundary. Here an elliptic low-pass
(its filter state carried from packet to packet) removes what 8 kHz cannot carry, then the
output is read off the filtered signal at fractional positions (linear interpolation, the
phase carried too). After the low-pass the input is oversampled several times over, so linear
interpolation adds little error, and the cost per packet is one small IIR and one `np.interp`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import ellip, sosfilt, sosfilt_zi

from voiceauth.errors import AudioFormatError

FILTER_ORDER = 8
PASSBAND_RIPPLE_DB = 0.1
STOPBAND_DB = 80.0
CUTOFF_FRACTION = 0.45
"""Low-pass edge as a fraction of the output rate: 3.6 kHz for 8 kHz, under its 4 kHz Nyquist."""


class StreamResampler:
    """Convert consecutive chunks of one stream from `from_rate` to `to_rate` (down only)."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        if not 0 < to_rate <= from_rate:
            raise AudioFormatError(
                f"stream resampling goes down to a positive rate: {from_rate} -> {to_rate} Hz"
            )
        self.step = from_rate / to_rate
        self._sos = ellip(
            FILTER_ORDER,
            PASSBAND_RIPPLE_DB,
            STOPBAND_DB,
            CUTOFF_FRACTION * to_rate,
            fs=from_rate,
            output="sos",
        )
        self._state = sosfilt_zi(self._sos) * 0.0
        self._previous = np.zeros(1)
        """The last filtered sample of the previous chunk: position 0 of the next one."""
        self._position = 1.0
        """Where the next output sample lies, in input samples from `_previous`."""

    def process(self, samples: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The next output samples for the next input chunk ((n,) float64, any scale)."""
        if self.step == 1.0:
            return samples
        filtered, self._state = sosfilt(self._sos, samples, zi=self._state)
        joined = np.concatenate([self._previous, filtered])
        last = len(joined) - 1
        count = max(int(np.floor((last - self._position) / self.step)) + 1, 0)
        positions = self._position + self.step * np.arange(count)
        out = np.interp(positions, np.arange(len(joined)), joined)
        self._position += self.step * count - last
        self._previous = joined[-1:]
        return np.asarray(out, dtype=np.float64)
