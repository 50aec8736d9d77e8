from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voiceauth.audio.io import Audio, load_audio, validate_pcm
from voiceauth.errors import AudioFormatError


def _write_wav(path: Path, samples: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> Path:
    sf.write(path, samples, rate, subtype=subtype, format="WAV")
    return path


def _tone(seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_loads_real_flac_speech(speech_16k: Audio) -> None:
    assert speech_16k.sample_rate == 16000
    assert speech_16k.samples.dtype == np.float32
    assert speech_16k.samples.ndim == 1
    assert speech_16k.duration_s == pytest.approx(14.595)
    assert 0.1 < np.abs(speech_16k.samples).max() <= 1.0


def test_loads_real_8khz_wav(digit_8k: Audio) -> None:
    assert digit_8k.sample_rate == 8000
    assert 0.2 < digit_8k.duration_s < 1.0
    assert np.abs(digit_8k.samples).max() > 0.05


def test_loads_mp3(tmp_path: Path, speech_16k: Audio) -> None:
    if "MP3" not in sf.available_formats():
        pytest.skip(f"libsndfile {sf.__libsndfile_version__} cannot write MP3")
    path = tmp_path / "speech.mp3"
    sf.write(path, speech_16k.samples, 16000, format="MP3")
    audio = load_audio(path)
    assert audio.sample_rate == 16000
    assert audio.duration_s == pytest.approx(speech_16k.duration_s, abs=0.1)
    # Lossy, but the same speech: its level is within 1 dB of the original's.
    ratio_db = 10 * np.log10(np.mean(audio.samples**2) / np.mean(speech_16k.samples**2))
    assert abs(ratio_db) < 1.0


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    with pytest.raises(AudioFormatError, match=f"^audio file not found: {re.escape(str(path))}$"):
        load_audio(path)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match=f"^not a file: {re.escape(str(tmp_path))}$"):
        load_audio(tmp_path)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioFormatError, match=f"^empty audio: {re.escape(str(path))} is 0 bytes$"):
        load_audio(path)


def test_wav_with_zero_frames(tmp_path: Path) -> None:
    path = _write_wav(tmp_path / "header_only.wav", np.zeros(0, dtype=np.float32))
    with pytest.raises(AudioFormatError, match="^empty audio: .*header_only.wav has no samples$"):
        load_audio(path)


def test_truncated_wav(tmp_path: Path) -> None:
    whole = _write_wav(tmp_path / "whole.wav", _tone()).read_bytes()  # 16000 frames, 32000 bytes
    path = tmp_path / "cut.wav"
    path.write_bytes(whole[: 44 + 10000])
    with pytest.raises(
        AudioFormatError,
        match="^truncated audio: .*cut.wav: WAV header declares 32000 data bytes, file holds 10000",
    ):
        load_audio(path)


def test_streamed_wav_with_unknown_length_is_not_truncated(tmp_path: Path) -> None:
    data = bytearray(_write_wav(tmp_path / "whole.wav", _tone()).read_bytes())
    data[4:8] = struct.pack("<I", 0xFFFFFFFF)  # RIFF size and data size left unpatched by a
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)  # writer that streamed the file
    path = tmp_path / "streamed.wav"
    path.write_bytes(bytes(data))
    assert len(load_audio(path).samples) == 16000


def test_truncated_flac(tmp_path: Path, speech_16k: Audio) -> None:
    whole = tmp_path / "whole.flac"
    sf.write(whole, speech_16k.samples[:32000], 16000)
    path = tmp_path / "cut.flac"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(AudioFormatError, match="^unreadable audio: .*cut.flac: .*lost sync"):
        load_audio(path)


def test_garbage_bytes(tmp_path: Path) -> None:
    path = tmp_path / "garbage.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(
        AudioFormatError, match="^unreadable audio: .*garbage.wav: Format not recognised"
    ) as caught:
        load_audio(path)
    assert isinstance(caught.value.__cause__, sf.SoundFileError)


def test_nan_samples(tmp_path: Path) -> None:
    samples = _tone()
    samples[5] = np.nan
    samples[9] = np.inf
    path = _write_wav(tmp_path / "nan.wav", samples, subtype="FLOAT")
    with pytest.raises(
        AudioFormatError,
        match=r"^non-finite audio in .*nan.wav: 2 NaN or infinite samples, first at index 5$",
    ):
        load_audio(path)


def test_stereo_needs_a_channel(tmp_path: Path) -> None:
    left, right = _tone(), 0.5 * _tone()
    path = _write_wav(tmp_path / "call.wav", np.stack([left, right], axis=1))
    expected = (
        "stereo audio (2 channels): choose one channel with channel=0..1; "
        "a mix would blend caller and agent"
    )
    with pytest.raises(AudioFormatError, match=re.escape(expected)):
        load_audio(path)
    right_only = load_audio(path, channel=1)
    np.testing.assert_allclose(right_only.samples, right, atol=1 / 32768)
    with pytest.raises(AudioFormatError, match=r"channel 2 out of range: .* valid: 0\.\.1$"):
        load_audio(path, channel=2)


def test_multichannel_names_the_channel_range(tmp_path: Path) -> None:
    path = _write_wav(tmp_path / "four.wav", np.zeros((800, 4), dtype=np.float32))
    with pytest.raises(AudioFormatError, match=r"multichannel audio \(4 channels\).*0\.\.3"):
        load_audio(path)


def test_sample_rate_below_8khz(tmp_path: Path) -> None:
    path = _write_wav(tmp_path / "slow.wav", _tone(rate=4000), rate=4000)
    with pytest.raises(
        AudioFormatError,
        match="^sample rate too low in .*slow.wav: 4000 Hz, need at least 8000 Hz$",
    ):
        load_audio(path)


def test_validate_pcm_returns_float32() -> None:
    result = validate_pcm(np.array([0.0, 0.5, -0.25]), 8000)
    assert result.dtype == np.float32
    assert result.tolist() == [0.0, 0.5, -0.25]


@pytest.mark.parametrize(
    ("samples", "rate", "message"),
    [
        (np.zeros((10, 2), dtype=np.float32), 16000, r"shape \(n,\), got shape \(10, 2\)"),
        (np.zeros(10, dtype=np.int16), 16000, "got int16; convert int16 PCM with pcm16_to_float"),
        (np.zeros(0, dtype=np.float32), 16000, "^empty audio: no samples$"),
        (np.array([0.0, np.nan], dtype=np.float32), 16000, "first at index 1"),
        (np.zeros(10, dtype=np.float32), 4000, "^sample rate too low: 4000 Hz"),
    ],
)
def test_validate_pcm_refuses(samples: np.ndarray, rate: int, message: str) -> None:
    with pytest.raises(AudioFormatError, match=message):
        validate_pcm(samples, rate)


def test_duration() -> None:
    assert Audio(np.zeros(12000, dtype=np.float32), 8000).duration_s == 1.5
