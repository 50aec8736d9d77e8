"""Streaming sample-rate conversion: int16 chunks in, int16 chunks out, the filter's state kept.

Every transport turns what it receives (RTP packets, AudioSocket frames, WebSocket messages)
into 8 kHz PCM. Resampling each chunk on its own would restart the anti-aliasing filter at
every chunk edge (a click every 20 ms); this converter keeps the input its filter still needs
and counts the output it has made, so any chunking of a stream gives the samples that
`scipy.signal.resample_poly` (what `voiceauth.audio.resample` uses) gives for the whole stream:
the same Kaiser-windowed polyphase filter, run by `scipy.signal.upfirdn`, zero phase (output
sample k is input time k / to_rate). The price is a lookahead of half the filter (about 1.3 ms:
20 input samples at 16 kHz, 56 at 44.1 kHz), which `flush` releases at the stream's end.
"""

from __future__ import annotations

from math import gcd

import numpy as np
import numpy.typing as npt
from scipy.signal import firwin, upfirdn

from voiceauth.audio.pcm import PCM16_SCALE, float_to_pcm16
from voiceauth.errors import AudioFormatError

HALF_LENGTH_PER_RATE = 10
"""resample_poly's filter: 2 * 10 * max(up, down) + 1 taps at the upsampled rate."""
WINDOW = ("kaiser", 5.0)
"""resample_poly's default window."""


class StreamResampler:
    """Consecutive (n,) int16 chunks of one stream at `from_rate` in, int16 at `to_rate` out.

    After `flush` the total output is ceil(total input * to_rate / from_rate) samples, and the
    converter starts a new stream. Equal rates pass chunks through unchanged.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        if from_rate <= 0 or to_rate <= 0:
            raise AudioFormatError(
                f"stream resampling needs positive rates, got {from_rate} -> {to_rate} Hz"
            )
        divisor = gcd(from_rate, to_rate)
        self.up, self.down = to_rate // divisor, from_rate // divisor
        max_rate = max(self.up, self.down)
        self._half = HALF_LENGTH_PER_RATE * max_rate if max_rate > 1 else 0
        design = (
            firwin(2 * self._half + 1, 1.0 / max_rate, window=WINDOW) * self.up
            if self._half
            else np.ones(1)  # equal rates: the identity
        )
        pad = -self._half % self.down  # leading zeros: the filter's delay becomes whole outputs
        self._filter = np.concatenate([np.zeros(pad), design])
        self._lead = (self._half + pad) // self.down
        """Index in upfirdn's output of output 0, for a buffer that starts at input 0."""
        self._buffer = np.zeros(0)
        self._start = 0
        """Input index of `_buffer[0]`, always a multiple of `down` (so `_lead` stays whole)."""
        self._made = 0

    def feed(self, pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """The output whose filter window has fully arrived (none may be ready yet)."""
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise AudioFormatError(
                f"stream resampling takes (n,) int16, got {pcm.dtype} {pcm.shape}"
            )
        if self.up == self.down:
            return pcm
        self._buffer = np.concatenate([self._buffer, pcm / PCM16_SCALE])
        fed = self._start + len(self._buffer)
        return self._convert((fed * self.up - 1 - self._half) // self.down + 1)

    def flush(self) -> npt.NDArray[np.int16]:
        """The rest of the output, with silence after the end (as resample_poly pads)."""
        fed = self._start + len(self._buffer)
        rest = self._convert(-(-fed * self.up // self.down))
        self._buffer, self._start, self._made = np.zeros(0), 0, 0
        return rest

    def _convert(self, end: int) -> npt.NDArray[np.int16]:
        """Outputs `_made` up to `end`, then drop the input no later output needs."""
        count = end - self._made
        if count <= 0:
            return np.zeros(0, np.int16)
        first = self._lead + self._made - self._start * self.up // self.down
        converted = upfirdn(self._filter, self._buffer, self.up, self.down)[first : first + count]
        self._made = end
        needed = max(-(-(end * self.down - self._half) // self.up), 0)
        start = max(needed // self.down * self.down, self._start)
        self._buffer = self._buffer[start - self._start :]
        self._start = start
        return float_to_pcm16(converted)
