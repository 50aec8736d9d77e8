"""Fixtures for the audio tests: one VAD model and a few real recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceauth.audio.io import Audio, load_audio

LIBRISPEECH = "resemblyzer_librispeech/librispeech_train-clean-100"


@pytest.fixture(scope="session")
def speech_16k(shared_data: Path) -> Audio:
    """14 s of read speech, 16 kHz FLAC, one LibriSpeech speaker, about 30 dB SNR."""
    return load_audio(shared_data / LIBRISPEECH / "1040-133433-0000.flac")


@pytest.fixture(scope="session")
def digit_8k(shared_data: Path) -> Audio:
    """One spoken digit, 8 kHz WAV, from the Free Spoken Digit Dataset."""
    return load_audio(shared_data / "fsdd" / "0_george_0.wav")
