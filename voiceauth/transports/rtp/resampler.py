"""Streaming sample-rate conversion to 8 kHz, packet by packet, with state across packets.

`voiceauth.audio.resample` converts whole signals; an RTP stream arrives in 20 ms pieces, and
resampling each piece alone would click at every packet boundary. Here a linear-phase FIR
low-pass (Kaiser window; its state carried from packet to packet) removes what 8 kHz cannot
carry, then the output is read off the filtered signal at fractional positions (linear
interpolation, the phase carried too). After the low-pass the input is oversampled several
times over, so linear interpolation adds little error. Linear phase keeps the waveform (an IIR
of the same steepness smears the band edge by milliseconds); its fixed delay of half the
filter is compensated by starting the output that much later, so output sample k is input
time k/8000 s and the last few milliseconds stay in the filter.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import firwin, kaiserord, lfilter

from voiceauth.errors import AudioFormatError

STOPBAND_DB = 60.0
"""Attenuation of what would alias: below the 8-bit-plus noise floor of G.711 telephone audio."""
PASSBAND_FRACTION = 0.425
STOPBAND_FRACTION = 0.5
"""Transition band as fractions of the output rate: flat to 3.4 kHz (the telephone band's top),
stopped from 4 kHz (its Nyquist frequency)."""


class StreamResampler:
    """Convert consecutive chunks of one stream from `from_rate` to `to_rate` (down only)."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        if not 0 < to_rate <= from_rate:
            raise AudioFormatError(
                f"stream resampling goes down to a positive rate: {from_rate} -> {to_rate} Hz"
            )
        self.step = from_rate / to_rate
        width = (STOPBAND_FRACTION - PASSBAND_FRACTION) * to_rate
        taps, beta = kaiserord(STOPBAND_DB, width / (from_rate / 2))
        taps |= 1  # odd: a whole-sample delay
        cutoff = (PASSBAND_FRACTION + STOPBAND_FRACTION) / 2 * to_rate
        self._fir = firwin(taps, cutoff, window=("kaiser", beta), fs=from_rate)
        self._state = np.zeros(taps - 1)
        self._previous = np.zeros(1)
        """The last filtered sample of the previous chunk: position 0 of the next one."""
        self._position = 1.0 + (taps - 1) / 2
        """Where the next output sample lies, in input samples from `_previous` (the first one
        waits out the filter's delay)."""

    def process(self, samples: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The next output samples for the next input chunk ((n,) float64, any scale)."""
        if self.step == 1.0:
            return samples
        filtered, self._state = lfilter(self._fir, 1.0, samples, zi=self._state)
        joined = np.concatenate([self._previous, filtered])
        last = len(joined) - 1
        count = max(int(np.floor((last - self._position) / self.step)) + 1, 0)
        positions = self._position + self.step * np.arange(count)
        out = np.interp(positions, np.arange(len(joined)), joined)
        self._position += self.step * count - last
        self._previous = joined[-1:]
        return np.asarray(out, dtype=np.float64)
