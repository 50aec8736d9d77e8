"""Voice-activity detection: where the speech is, so that only net speech is embedded and timed.

Silence, music on hold and line noise carry nothing about the speaker but dilute an embedding
and inflate "seconds of speech". `SileroVad` wraps the Silero VAD model shipped inside the
`silero-vad` package (no download); the model is loaded when the object is built, never at import.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceauth.errors import AudioFormatError, ConfigError

VAD_RATES = (8000, 16000)
"""The only rates the Silero model was trained for."""

Segment = tuple[int, int]
"""[start, end) in samples at the rate the VAD ran at."""


def _load_model() -> Any:
    """Load the packaged Silero TorchScript model, undoing the package's side effects.

    Importing `silero_vad` calls `torch.set_num_threads(1)` for the whole process, which would
    silently change every other model's speed; the caller's setting is restored. torch >= 2.10
    deprecates `torch.jit.load`, which the package uses and no caller can act on: that one
    warning is silenced.
    """
    import torch

    threads = torch.get_num_threads()
    try:
        import silero_vad

        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="`torch.jit.load` is deprecated", category=DeprecationWarning
            )
            return silero_vad.load_silero_vad()
    finally:
        torch.set_num_threads(threads)


class SileroVad:
    """Silero VAD with fixed options; `segments` finds speech in 8 or 16 kHz audio.

    Options (defaults are Silero's own): threshold is the speech probability that starts a
    segment; segments shorter than min_speech_ms are dropped; pauses shorter than
    min_silence_ms do not end one; speech_pad_ms is added at both ends. The model keeps
    recurrent state between windows, so calls on one instance are serialised by a lock:
    build one instance per worker thread for parallelism.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        min_speech_ms: int = 250,
        min_silence_ms: int = 100,
        speech_pad_ms: int = 30,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"VAD threshold must be in (0, 1), got {threshold}")
        for name, value in (
            ("min_speech_ms", min_speech_ms),
            ("min_silence_ms", min_silence_ms),
            ("speech_pad_ms", speech_pad_ms),
        ):
            if value < 0:
                raise ConfigError(f"VAD {name} must be >= 0, got {value}")
        self.threshold = threshold
        self.min_speech_ms = min_speech_ms
        self.min_silence_ms = min_silence_ms
        self.speech_pad_ms = speech_pad_ms
        self._model = _load_model()
        self._lock = threading.Lock()

    def segments(self, samples: npt.NDArray[np.float32], sample_rate: int) -> list[Segment]:
        """Speech segments of (n,) float32 samples as [start, end) sample indices at sample_rate.

        Sorted and non-overlapping; empty for silence or noise. sample_rate must be 8000 or
        16000 Hz: other rates raise AudioFormatError (resample first).
        """
        if sample_rate not in VAD_RATES:
            raise AudioFormatError(
                f"Silero VAD runs at 8000 or 16000 Hz, got {sample_rate} Hz: "
                "resample first (voiceauth.audio.resample.resample)"
            )
        array = np.asarray(samples)
        if array.ndim != 1:
            raise AudioFormatError(f"VAD expects mono samples (n,), got shape {array.shape}")
        if array.size == 0:
            return []
        import silero_vad
        import torch

        audio = torch.tensor(array, dtype=torch.float32)  # a copy: the model must not alias
        with self._lock, torch.inference_mode():
            stamps = silero_vad.get_speech_timestamps(
                audio,
                self._model,
                threshold=self.threshold,
                sampling_rate=sample_rate,
                min_speech_duration_ms=self.min_speech_ms,
                min_silence_duration_ms=self.min_silence_ms,
                speech_pad_ms=self.speech_pad_ms,
            )
        return [(int(stamp["start"]), int(stamp["end"])) for stamp in stamps]


def net_speech(
    samples: npt.NDArray[np.float32], segments: list[Segment]
) -> npt.NDArray[np.float32]:
    """Concatenate the segments of (n,) samples: net speech, (m,) float32 at the same rate.

    Raises ValueError for a segment outside the samples, the sign of segments found at
    another sample rate.
    """
    array = np.asarray(samples, dtype=np.float32)
    for start, end in segments:
        if not 0 <= start <= end <= len(array):
            raise ValueError(
                f"segment [{start}, {end}) lies outside {len(array)} samples: "
                "were segments found at another sample rate?"
            )
    if not segments:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([array[start:end] for start, end in segments])


def speech_seconds(segments: list[Segment], sample_rate: int) -> float:
    """Total duration of the segments in seconds."""
    return sum(end - start for start, end in segments) / sample_rate


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run a batch VAD pass on one torch thread, restoring the caller's setting afterwards.

    Silero scores 32 ms windows one at a time; splitting such tiny tensors over threads only
    adds synchronisation, and on a shared, loaded machine it made the VAD 20 times slower
    (real-time factor 0.30 with 2 threads against 0.015 with one, measured here).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
