from pathlib import Path

import numpy as np
import pytest

from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.base import Embedder
from voiceauth.embeddings.ge2e import Ge2eEmbedder, mel_spectrogram
from voiceauth.errors import InsufficientSpeech

VCTK = "autovc_vctk_samples"


def speech(shared_data: Path, vad: SileroVad, relative: str) -> np.ndarray:
    audio = load_audio(shared_data / relative)
    return extract_speech(audio, vad, sample_rate=16_000).samples


def test_ge2e_is_an_embedder_with_a_version(ge2e: Ge2eEmbedder) -> None:
    assert isinstance(ge2e, Embedder)
    assert ge2e.embedder_id == "ge2e"
    assert len(ge2e.version) == 12 and int(ge2e.version, 16) >= 0
    assert (ge2e.sample_rate, ge2e.dimension) == (16_000, 256)


def test_same_speaker_scores_above_other_speakers(
    ge2e: Ge2eEmbedder, vad: SileroVad, shared_data: Path
) -> None:
    a1 = speech(shared_data, vad, f"{VCTK}/p225/p225_003.wav")
    a2 = speech(shared_data, vad, f"{VCTK}/p225/p225_008.wav")
    b1 = speech(shared_data, vad, f"{VCTK}/p226/p226_003.wav")
    e_a1, e_a2, e_b1 = ge2e.embed_batch([a1, a2, b1])
    same = float(e_a1.vector @ e_a2.vector)
    other = float(e_a1.vector @ e_b1.vector)
    assert same > other + 0.05
    assert e_a1.net_speech_s == pytest.approx(len(a1) / 16_000)


def test_batched_equals_one_by_one(ge2e: Ge2eEmbedder, vad: SileroVad, shared_data: Path) -> None:
    a = speech(shared_data, vad, f"{VCTK}/p227/p227_003.wav")
    pieces = [a, a[: 16_000 * 2], a[8_000:]]
    batched = ge2e.embed_batch(pieces)
    for piece, together in zip(pieces, batched, strict=True):
        np.testing.assert_allclose(ge2e.embed(piece).vector, together.vector, atol=1e-5)


def test_too_little_speech_is_a_state_not_a_vector(ge2e: Ge2eEmbedder) -> None:
    with pytest.raises(InsufficientSpeech, match=r"0\.2 s < 0\.5 s required"):
        ge2e.embed(np.zeros(3_200, dtype=np.float32))


def test_empty_batch_is_empty(ge2e: Ge2eEmbedder) -> None:
    assert ge2e.embed_batch([]) == []


def test_the_mel_spectrogram_is_resemblyzers_exactly(vad: SileroVad, shared_data: Path) -> None:
    """The weights were trained on resemblyzer's features: the faster path must not move them."""
    from resemblyzer.audio import wav_to_mel_spectrogram

    a = speech(shared_data, vad, f"{VCTK}/p228/p228_003.wav")
    for piece in (a, a[:25_600], a[:9_000] * 0.01):
        ours, theirs = mel_spectrogram(piece), wav_to_mel_spectrogram(piece)
        assert ours.shape == theirs.shape and ours.shape[1] == 40
        assert ours.dtype == theirs.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
