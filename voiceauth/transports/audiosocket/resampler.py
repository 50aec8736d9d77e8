"""Streaming sample-rate conversion for audio that arrives in 20 ms frames.

Resampling each frame on its own would restart the anti-aliasing filter at every frame edge and
add a 50 Hz buzz of edge transients; this converter keeps the filter's context across frames
(overlap-save), so its output equals `scipy.signal.resample_poly` over the whole stream, the
same filter `voiceauth.audio.resample` uses, at the price of a short lookahead (at most
`context` input samples, 10 ms at 44.1 kHz).
"""

from __future__ import annotations

from math import ceil, gcd

import numpy as np
import numpy.typing as npt
from scipy.signal import firwin, resample_poly

from voiceauth.audio.pcm import PCM16_SCALE, float_to_pcm16

HALF_LENGTH_PER_RATE = 10
"""resample_poly's filter: 2 * 10 * max(up, down) + 1 taps at the upsampled rate."""
WINDOW = ("kaiser", 5.0)
"""resample_poly's default window."""


class StreamResampler:
    """int16 frames at `from_rate` in, int16 at `to_rate` out; `flush` at the stream's end."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        divisor = gcd(from_rate, to_rate)
        self.up, self.down = to_rate // divisor, from_rate // divisor
        max_rate = max(self.up, self.down)
        half_length = HALF_LENGTH_PER_RATE * max_rate
        self._filter = firwin(2 * half_length + 1, 1.0 / max_rate, window=WINDOW)
        reach = ceil(half_length / self.up)  # input samples the filter sees on each side
        self.context = ceil(reach / self.down) * self.down
        self._history = np.zeros(self.context)  # the zeros resample_poly pads before the start
        self._pending = np.zeros(0)

    def feed(self, pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """Output for the input so far, except the last `context` samples (kept as lookahead)."""
        self._pending = np.concatenate([self._pending, pcm.astype(np.float64) / PCM16_SCALE])
        ready = (len(self._pending) - self.context) // self.down * self.down
        if ready <= 0:
            return np.zeros(0, np.int16)
        lookahead = self._pending[ready : ready + self.context]
        return self._convert(ready, lookahead)

    def flush(self) -> npt.NDArray[np.int16]:
        """The rest of the output, with silence after the end (as resample_poly pads)."""
        ready = len(self._pending)
        if ready == 0:
            return np.zeros(0, np.int16)
        return self._convert(ready, np.zeros(self.context))

    def _convert(self, ready: int, lookahead: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
        block = np.concatenate([self._history, self._pending[:ready], lookahead])
        converted = resample_poly(block, self.up, self.down, window=self._filter)
        first = self.context * self.up // self.down
        count = -(-ready * self.up // self.down)
        joined = np.concatenate([self._history, self._pending[:ready]])
        self._history = joined[len(joined) - self.context :]
        self._pending = self._pending[ready:]
        return float_to_pcm16(converted[first : first + count])
