from pathlib import Path

import numpy as np
import pytest

from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.embeddings.streaming import StreamingEmbedding

LIBRI = "resemblyzer_librispeech/librispeech_train-clean-100/1040-133433-0000.flac"


@pytest.fixture(scope="module")
def speech(shared_data: Path, vad: SileroVad) -> np.ndarray:
    return extract_speech(load_audio(shared_data / LIBRI), vad, sample_rate=16_000).samples


def test_embedding_appears_at_min_speech_and_updates_on_schedule(
    ge2e: Ge2eEmbedder, speech: np.ndarray
) -> None:
    stream = StreamingEmbedding(ge2e, min_speech_s=3.0, update_every_s=2.0, max_window_s=60.0)
    chunk = 8_000  # 0.5 s chunks, as a VAD would emit them
    updates = []
    for start in range(0, len(speech) - chunk + 1, chunk):
        if stream.add(speech[start : start + chunk]) is not None:
            updates.append(stream.net_speech_s)
    assert updates[0] == pytest.approx(3.0)
    assert np.diff(updates) == pytest.approx(np.full(len(updates) - 1, 2.0))
    assert stream.current is not None
    whole = ge2e.embed(speech[: int(stream.net_speech_s * 16_000)])
    last_update_s = updates[-1]
    assert stream.current.net_speech_s == pytest.approx(last_update_s)
    assert float(stream.current.vector @ whole.vector) > 0.95


def test_window_is_capped_to_recent_speech(ge2e: Ge2eEmbedder, speech: np.ndarray) -> None:
    stream = StreamingEmbedding(ge2e, min_speech_s=1.0, update_every_s=1.0, max_window_s=2.0)
    for start in range(0, 16_000 * 6, 16_000):
        stream.add(speech[start : start + 16_000])
    recent = ge2e.embed(speech[16_000 * 4 : 16_000 * 6])
    assert stream.current is not None
    np.testing.assert_allclose(stream.current.vector, recent.vector, atol=1e-5)
    assert stream.net_speech_s == pytest.approx(6.0)


def test_bad_chunks_are_refused(ge2e: Ge2eEmbedder) -> None:
    stream = StreamingEmbedding(ge2e)
    with pytest.raises(ValueError, match="NaN"):
        stream.add(np.array([0.0, np.nan], dtype=np.float32))
    with pytest.raises(ValueError, match="1-D"):
        stream.add(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError):
        StreamingEmbedding(ge2e, min_speech_s=5.0, max_window_s=2.0)
