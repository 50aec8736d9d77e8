"""Signal quality of a recording: net speech, SNR and clipping, for calibration and rejection.

Scores from short, noisy or clipped audio are less reliable; these three numbers travel with
an embedding so that calibration can account for them and policy can ask for a retry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceauth.audio.vad import Segment, speech_seconds

FRAME_S = 0.020
"""Frame length for energies: short enough to resolve pauses between words."""
MIN_NOISE_FRAMES = 10
"""Fewer non-speech frames (200 ms) than this give no usable noise estimate."""
NOISE_PERCENTILE = 10.0
"""Fallback noise floor: the quietest tenth of frames, assumed to be pauses."""
SNR_RANGE_DB = (-10.0, 60.0)
"""Reported SNR is clamped: below -10 dB speech is buried; above 60 dB the noise estimate is
dither or digital silence and the number means "clean", nothing more precise."""
CLIP_LEVEL = 0.999
"""|x| at or above this counts as clipped (int16 full scale 32767/32768 is above it)."""
_POWER_FLOOR = 1e-12
"""Power (-120 dBFS) standing in for digital silence, so logarithms stay finite."""


@dataclass(frozen=True)
class Quality:
    """net_speech_s: seconds of speech; snr_db: speech-to-noise ratio in dB, clamped to
    SNR_RANGE_DB; clipping_ratio: share of all samples at full scale, in [0, 1]."""

    net_speech_s: float
    snr_db: float
    clipping_ratio: float


def _frame_powers(
    samples: npt.NDArray[np.float32], speech_mask: npt.NDArray[np.bool_], frame: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Mean power of each whole frame, and whether most of the frame is speech."""
    count = max(len(samples) // frame, 1)
    usable = min(count * frame, len(samples))
    power = np.square(samples[:usable].astype(np.float64)).reshape(count, -1).mean(axis=1)
    is_speech = speech_mask[:usable].reshape(count, -1).mean(axis=1) >= 0.5
    return power, is_speech


def _snr_db(power: npt.NDArray[np.float64], is_speech: npt.NDArray[np.bool_]) -> float:
    """Speech-frame over non-speech-frame power, with the noise subtracted from the speech.

    Speech frames hold speech plus noise, so the noise power is subtracted before the ratio.
    With fewer than MIN_NOISE_FRAMES pauses, the noise floor is the NOISE_PERCENTILE of all
    frame powers instead. No speech frame at all gives the lower clamp.
    """
    low, high = SNR_RANGE_DB
    if not is_speech.any():
        return low
    speech_power = float(power[is_speech].mean())
    if np.count_nonzero(~is_speech) >= MIN_NOISE_FRAMES:
        noise_power = float(power[~is_speech].mean())
    else:
        noise_power = float(np.percentile(power, NOISE_PERCENTILE))
    noise_power = max(noise_power, _POWER_FLOOR)
    signal_power = max(speech_power - noise_power, _POWER_FLOOR)
    snr = 10.0 * np.log10(signal_power / noise_power)
    return float(np.clip(snr, low, high))


def measure_quality(
    samples: npt.NDArray[np.float32], sample_rate: int, segments: list[Segment]
) -> Quality:
    """Quality of (n,) float32 samples at sample_rate Hz, given the VAD's speech segments.

    SNR comes from 20 ms frames, a frame being speech when at least half of it lies in a
    segment; clipping is counted over all samples, speech or not.
    """
    array = np.asarray(samples, dtype=np.float32)
    net_s = speech_seconds(segments, sample_rate)
    if array.size == 0:
        return Quality(net_speech_s=net_s, snr_db=SNR_RANGE_DB[0], clipping_ratio=0.0)
    mask = np.zeros(len(array), dtype=bool)
    for start, end in segments:
        mask[start:end] = True
    frame = max(round(FRAME_S * sample_rate), 1)
    power, is_speech = _frame_powers(array, mask, frame)
    clipping = float(np.count_nonzero(np.abs(array) >= CLIP_LEVEL) / array.size)
    return Quality(net_speech_s=net_s, snr_db=_snr_db(power, is_speech), clipping_ratio=clipping)
