"""EcapaEmbedder: model-directory errors, the published architecture, batching, real speech."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from voiceauth.embeddings.base import Embedder
from voiceauth.embeddings.ecapa import EcapaEmbedder, file_sha256
from voiceauth.embeddings.ecapa_hparams import EcapaHparams
from voiceauth.errors import (
    AudioFormatError,
    InsufficientSpeech,
    ModelIntegrityError,
    ModelNotFound,
)
from voiceauth.training.checkpoint import EmbeddingStats, write_model_dir

PUBLISHED = Path(__file__).resolve().parents[2] / ".." / "shared" / "models"
PUBLISHED_YAML = (PUBLISHED / "spkrec-ecapa-voxceleb" / "hyperparams.yaml").resolve()
HOW_TO = (
    "run `voiceauth models fetch ecapa` on a machine with internet, "
    "or train one with `voiceauth train`, and put it in {dir}"
)
TINY = EcapaHparams(
    n_mels=40,
    sentence_std_norm=False,
    channels=(32, 32, 32, 32, 96),
    attention_channels=16,
    se_channels=16,
    lin_neurons=24,
    embedding_std_norm=False,
)


def make_model_dir(path: Path, hparams: EcapaHparams, *, seed: int = 0) -> Path:
    """A model directory of `hparams` with random weights, as `voiceauth train` writes one."""
    torch.manual_seed(seed)
    model = hparams.build_model().eval()
    stats = EmbeddingStats.of(torch.randn(8, hparams.lin_neurons) * 0.01)
    write_model_dir(
        path, hparams=hparams, model=model, classifier=None, stats=stats, labels=(), title="test"
    )
    return path


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Noise with a slow amplitude envelope, so features vary over time like speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    envelope = 0.5 + 0.5 * np.sin(np.linspace(0, 6 * np.pi * seconds, n)) ** 2
    return (0.1 * envelope * rng.standard_normal(n)).astype(np.float32)


def test_missing_directory_says_how_to_get_the_model(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelNotFound) as caught:
        EcapaEmbedder(missing)
    assert str(caught.value) == (
        f"ECAPA model directory {missing} not found: " + HOW_TO.format(dir=missing)
    )


def test_missing_checkpoint_names_the_file(tmp_path: Path) -> None:
    shutil.copy(PUBLISHED_YAML, tmp_path / "hyperparams.yaml")
    with pytest.raises(ModelNotFound) as caught:
        EcapaEmbedder(tmp_path)
    assert str(caught.value) == (
        f"ECAPA model file embedding_model.ckpt missing in {tmp_path}: "
        + HOW_TO.format(dir=tmp_path)
    )


def test_published_architecture_matches_the_published_checkpoint(tmp_path: Path) -> None:
    """The loader would accept the real 84 MB checkpoint: same 231 tensors and shapes (~3 s)."""
    shutil.copy(PUBLISHED_YAML, tmp_path / "hyperparams.yaml")
    hparams = EcapaHparams.load(tmp_path / "hyperparams.yaml")
    state = hparams.build_model().state_dict()
    keys = list(state)
    assert len(keys) == 231
    assert (keys[0], tuple(state[keys[0]].shape)) == ("blocks.0.conv.conv.weight", (1024, 80, 5))
    assert (keys[-1], tuple(state[keys[-1]].shape)) == ("fc.conv.bias", (192,))
    values = sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked"))
    assert round(values / 1e5) == 208  # "20.8 M values" in ../shared/models/README.md
    torch.save(state, tmp_path / "embedding_model.ckpt")
    # The published stats file comes from an older SpeechBrain, with per-speaker extras.
    torch.save(
        {
            "count": 5,
            "glob_mean": torch.zeros(192),
            "glob_std": torch.ones(192),
            "spk_dict_mean": {},
            "spk_dict_std": {},
            "spk_dict_count": {},
        },
        tmp_path / "mean_var_norm_emb.ckpt",
    )
    embedder = EcapaEmbedder(tmp_path)
    assert isinstance(embedder, Embedder)
    assert (embedder.sample_rate, embedder.dimension, embedder.min_samples) == (16000, 192, 8000)
    assert embedder.version == file_sha256(tmp_path / "embedding_model.ckpt")[:12]
    embedding = embedder.embed(speech_like(1.0, seed=1))
    assert embedding.vector.shape == (192,)
    assert embedding.vector.dtype == np.float32
    assert np.isfinite(embedding.vector).all()
    assert (embedding.embedder_id, embedding.net_speech_s) == ("ecapa", 1.0)


def test_checkpoint_of_another_architecture_is_refused(tmp_path: Path) -> None:
    make_model_dir(tmp_path, TINY)
    other = EcapaHparams(**{**_fields(TINY), "channels": (64, 64, 64, 64, 192)})
    torch.save(other.build_model().state_dict(), tmp_path / "embedding_model.ckpt")
    with pytest.raises(ModelIntegrityError, match=r"does not match its hyperparams.yaml: shape"):
        EcapaEmbedder(tmp_path)


def test_pickled_code_is_not_loaded(tmp_path: Path) -> None:
    make_model_dir(tmp_path, TINY)
    torch.save({"weights": Path("/")}, tmp_path / "embedding_model.ckpt")
    with pytest.raises(ModelIntegrityError, match="not a readable tensor checkpoint"):
        EcapaEmbedder(tmp_path)


def test_version_changes_with_the_weights(tmp_path: Path) -> None:
    first = EcapaEmbedder(make_model_dir(tmp_path / "a", TINY, seed=0))
    second = EcapaEmbedder(make_model_dir(tmp_path / "b", TINY, seed=1))
    assert first.version != second.version
    assert len(first.version) == 12


def test_too_little_speech_is_a_state_not_a_vector(tmp_path: Path) -> None:
    embedder = EcapaEmbedder(make_model_dir(tmp_path, TINY))
    with pytest.raises(InsufficientSpeech):
        embedder.embed(np.zeros(7999, dtype=np.float32))
    with pytest.raises(AudioFormatError, match="NaN"):
        embedder.embed(np.full(8000, np.nan, dtype=np.float32))
    with pytest.raises(AudioFormatError, match="mono"):
        embedder.embed(np.zeros((2, 8000), dtype=np.float32))


def test_batched_equals_unbatched(tmp_path: Path) -> None:
    embedder = EcapaEmbedder(make_model_dir(tmp_path, TINY), batch_size=2)
    lengths = (0.5, 1.3, 2.0, 2.0, 3.1, 2.0)
    items = [speech_like(seconds, seed) for seed, seconds in enumerate(lengths)]
    batched = embedder.embed_batch(items)
    single = [embedder.embed(item) for item in items]
    for one, other in zip(batched, single, strict=True):
        np.testing.assert_allclose(one.vector, other.vector, rtol=1e-4, atol=1e-5)
        assert one.net_speech_s == other.net_speech_s
    assert embedder.embed_batch([]) == []


def test_padded_batches_keep_order_and_equal_lengths_exact(tmp_path: Path) -> None:
    """`pad=True` trades exactness near the padding for GPU throughput (see EcapaEmbedder)."""
    embedder = EcapaEmbedder(make_model_dir(tmp_path, TINY), pad=True)
    same = [speech_like(2.0, seed) for seed in range(3)]
    padded = embedder.embed_batch([*same, speech_like(1.0, 9)])
    for one, item in zip(padded[:3], same, strict=True):
        np.testing.assert_allclose(one.vector, embedder.embed(item).vector, rtol=1e-4, atol=1e-5)
    assert [e.net_speech_s for e in padded] == [2.0, 2.0, 2.0, 1.0]
    assert all(np.isfinite(e.vector).all() for e in padded)


def test_embeds_real_speech(tmp_path: Path, shared_data: Path) -> None:
    from voiceauth.audio.io import load_audio

    audio = load_audio(shared_data / "autovc_vctk_samples" / "p225" / "p225_003.wav")
    embedder = EcapaEmbedder(make_model_dir(tmp_path, TINY))
    vector = embedder.embed(audio.samples).vector
    assert vector.shape == (24,)
    assert np.isfinite(vector).all()


def _fields(hparams: EcapaHparams) -> dict[str, object]:
    return {name: getattr(hparams, name) for name in hparams.__dataclass_fields__}
