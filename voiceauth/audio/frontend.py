"""The audio front end: any `Audio` in, the net speech an embedder consumes out.

One path for enrolment, verification and evaluation, so that all of them see the same rate,
the same VAD and the same notion of "seconds of speech". Levels are left alone: embedders
normalise as their model card says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from voiceauth.audio.io import Audio
from voiceauth.audio.quality import Quality, measure_quality
from voiceauth.audio.resample import resample
from voiceauth.audio.vad import VAD_RATES, Segment, SileroVad, net_speech
from voiceauth.errors import AudioFormatError, ConfigError, InsufficientSpeech


@dataclass(frozen=True, eq=False)
class Speech:
    """Net speech: samples (m,) float32 in [-1, 1] at sample_rate Hz, pauses removed.

    quality.snr_db and quality.clipping_ratio describe the whole recording; quality.net_speech_s
    is the duration of these samples (after any max_speech_s cut).
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int
    quality: Quality


def _first_seconds(segments: list[Segment], limit: int) -> list[Segment]:
    """The segments cut so that their total length is at most `limit` samples."""
    kept: list[Segment] = []
    remaining = limit
    for start, end in segments:
        if remaining <= 0:
            break
        stop = min(end, start + remaining)
        kept.append((start, stop))
        remaining -= stop - start
    return kept


def extract_speech(
    audio: Audio,
    vad: SileroVad,
    *,
    sample_rate: int,
    min_speech_s: float = 1.0,
    max_speech_s: float | None = None,
) -> Speech:
    """Resample to sample_rate (8000 or 16000 Hz), keep the speech the VAD finds, measure it.

    max_speech_s keeps only the first seconds of net speech (evaluation's --test-seconds).
    Raises InsufficientSpeech when less than min_speech_s of net speech remains.
    """
    if sample_rate not in VAD_RATES:
        raise AudioFormatError(
            f"extract_speech: sample_rate must be 8000 or 16000, got {sample_rate}"
        )
    if min_speech_s < 0:
        raise ConfigError(f"min_speech_s must be >= 0, got {min_speech_s}")
    if max_speech_s is not None and max_speech_s < min_speech_s:
        raise ConfigError(
            f"max_speech_s ({max_speech_s}) must be at least min_speech_s ({min_speech_s})"
        )
    samples = resample(audio.samples, audio.sample_rate, sample_rate)
    segments = vad.segments(samples, sample_rate)
    quality = measure_quality(samples, sample_rate, segments)
    if max_speech_s is not None:
        segments = _first_seconds(segments, round(max_speech_s * sample_rate))
    speech = net_speech(samples, segments)
    net_s = len(speech) / sample_rate
    if net_s < min_speech_s:
        raise InsufficientSpeech(net_s, min_speech_s)
    return Speech(
        samples=speech, sample_rate=sample_rate, quality=replace(quality, net_speech_s=net_s)
    )
