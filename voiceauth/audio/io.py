"""Audio in memory (`Audio`), the one audio file loader, and the checks every input passes.

Everything downstream (resampling, VAD, embedders) assumes mono, finite float32 samples at a
known rate of at least 8 kHz; `validate_pcm` enforces that once, for files and for in-memory
callers alike, so that a bad input fails here with a message naming the defect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from voiceauth.errors import AudioFormatError

MIN_SAMPLE_RATE = 8000
"""Narrowband telephony (G.711) rate; below it speech loses the formants speaker models need."""

STREAMED_WAV_DATA_SIZE = 0xFFFFFFFF
"""Data length written by WAV writers that stream and never patch the header: not truncation."""

ESTIMATED_LENGTH_FORMATS = frozenset({"MP3"})
"""libsndfile formats whose frame count may be an estimate from bit rate and file size."""

_WAV_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
"""libsndfile's log line when a WAV data chunk is longer or shorter than the file holds."""


@dataclass(frozen=True, slots=True, eq=False)
class Audio:
    """Mono audio: samples (n,) float32 in [-1, 1] at sample_rate Hz.

    Compared by identity (eq=False): element-wise array equality has no single truth value.
    Build it from untrusted arrays with `validate_pcm` first.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


def _check(samples: npt.NDArray[np.float32], sample_rate: int, where: str) -> None:
    """Checks shared by `validate_pcm` and `load_audio`; `where` names the source in messages."""
    if sample_rate < MIN_SAMPLE_RATE:
        raise AudioFormatError(
            f"sample rate too low{where}: {sample_rate} Hz, need at least {MIN_SAMPLE_RATE} Hz"
        )
    if samples.size == 0:
        raise AudioFormatError(f"empty audio{where}: no samples")
    finite = np.isfinite(samples)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise AudioFormatError(
            f"non-finite audio{where}: {bad.size} NaN or infinite samples, first at index {bad[0]}"
        )


def validate_pcm(samples: npt.ArrayLike, sample_rate: int) -> npt.NDArray[np.float32]:
    """Check in-memory samples and return them as float32 (n,) in [-1, 1].

    Requires a 1-D float array, non-empty, finite, at sample_rate >= 8000 Hz; raises
    AudioFormatError naming the first defect. Integer PCM is refused rather than scaled, since
    its full scale is ambiguous: convert int16 with `pcm.pcm16_to_float`.
    """
    array = np.asarray(samples)
    if array.ndim != 1:
        raise AudioFormatError(
            f"expected mono samples of shape (n,), got shape {array.shape}; pick one channel"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise AudioFormatError(
            f"expected float samples in [-1, 1], got {array.dtype}; "
            "convert int16 PCM with pcm16_to_float"
        )
    result = array.astype(np.float32, copy=False)
    _check(result, sample_rate, "")
    return result


def _truncation(
    path: Path, file_format: str, info_log: str, frames_declared: int, frames_read: int
) -> str | None:
    """Say how a file is truncated, or None: libsndfile reads truncated WAVs without error.

    An MP3 without a Xing/Info header only has an estimated length, so a short MP3 read is not
    taken as truncation: it is decoded as far as it goes, like any player does.
    """
    if frames_read < frames_declared and file_format not in ESTIMATED_LENGTH_FORMATS:
        return (
            f"truncated audio: {path}: header declares {frames_declared} frames, got {frames_read}"
        )
    match = _WAV_DATA_SIZE.search(info_log)
    if match:
        declared, present = int(match.group(1)), int(match.group(2))
        if declared != STREAMED_WAV_DATA_SIZE and declared > present:
            return (
                f"truncated audio: {path}: WAV header declares {declared} data bytes, "
                f"file holds {present}"
            )
    return None


def _select_channel(
    data: npt.NDArray[np.float32], channel: int | None, path: Path
) -> npt.NDArray[np.float32]:
    """Pick one channel of (frames, channels) data; never mix: call tracks are separate people."""
    channels = data.shape[1]
    if channel is None:
        if channels == 1:
            return data[:, 0]
        kind = "stereo" if channels == 2 else "multichannel"
        raise AudioFormatError(
            f"{kind} audio ({channels} channels): choose one channel with "
            f"channel=0..{channels - 1}; a mix would blend caller and agent ({path})"
        )
    if not 0 <= channel < channels:
        raise AudioFormatError(
            f"channel {channel} out of range: {path} has {channels} channel(s), "
            f"valid: 0..{channels - 1}"
        )
    return data[:, channel]


def load_audio(path: str | Path, *, channel: int | None = None) -> Audio:
    """Read one channel of an audio file (WAV, FLAC, MP3, anything libsndfile reads) as float32.

    channel: required for files with more than one channel (e.g. a call recording with caller
    and agent on separate tracks). Raises AudioFormatError, naming the file, for a missing,
    empty, unreadable, corrupt or truncated file, a bad channel, non-finite samples, or a
    sample rate below 8 kHz. Samples are not resampled or normalised.
    """
    file = Path(path)
    if not file.exists():
        raise AudioFormatError(f"audio file not found: {file}")
    if not file.is_file():
        raise AudioFormatError(f"not a file: {file}")
    if file.stat().st_size == 0:
        raise AudioFormatError(f"empty audio: {file} is 0 bytes")
    try:
        with sf.SoundFile(file) as sound:
            data = sound.read(dtype="float32", always_2d=True)
            frames_declared = sound.frames
            file_format = str(sound.format)
            sample_rate = int(sound.samplerate)
            info_log = sound.extra_info
    except sf.SoundFileError as error:
        reason = getattr(error, "error_string", str(error))
        raise AudioFormatError(f"unreadable audio: {file}: {reason}") from error
    truncation = _truncation(file, file_format, info_log, frames_declared, len(data))
    if truncation:
        raise AudioFormatError(truncation)
    if len(data) == 0:
        raise AudioFormatError(f"empty audio: {file} has no samples")
    samples = np.ascontiguousarray(_select_channel(data, channel, file))
    _check(samples, sample_rate, f" in {file}")
    return Audio(samples=samples, sample_rate=sample_rate)
