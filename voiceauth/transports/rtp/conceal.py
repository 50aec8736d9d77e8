"""Filling the time of audio that never arrived, so a call's timeline stays true.

Lost packets are replaced by the last frame heard, repeated and faded out over FADE_SAMPLES,
then silence (a simple form of the packet-loss concealment G.711 Appendix I describes): the
first 20-40 ms of a gap sound continuous rather than clicking to zero, and a long gap does not
invent speech. Gaps longer than MAX_CONCEALED_SAMPLES (a hold, a sender's clock jump) are not
filled at all, so one bogus timestamp cannot make the service allocate minutes of audio.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceauth.transports.base import FRAME_SAMPLES, SAMPLE_RATE

FADE_SAMPLES = 2 * FRAME_SAMPLES
"""40 ms: the repeated frame fades to zero over this, then the gap is silent."""
MAX_CONCEALED_SAMPLES = SAMPLE_RATE
"""1 s of 8 kHz audio, the longest gap that is filled (as the Twilio track clock does)."""


def conceal(previous: npt.NDArray[np.int16] | None, n_samples: int) -> npt.NDArray[np.int16]:
    """(n_samples,) int16 to stand in for lost audio after `previous` (the last frame played)."""
    if previous is None or len(previous) == 0:
        return np.zeros(n_samples, np.int16)
    repeats = -(-min(n_samples, FADE_SAMPLES) // len(previous))
    filled = np.zeros(n_samples, np.float64)
    faded = min(n_samples, FADE_SAMPLES)
    ramp = 1.0 - np.arange(1, faded + 1) / FADE_SAMPLES
    filled[:faded] = np.tile(previous.astype(np.float64), repeats)[:faded] * ramp
    return np.rint(filled).astype(np.int16)
