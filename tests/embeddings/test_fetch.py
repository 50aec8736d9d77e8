import os
import subprocess
import sys
from pathlib import Path

import pytest

from voiceauth.embeddings.ecapa import file_sha256
from voiceauth.embeddings.fetch import PublishedFile, verify_file
from voiceauth.errors import ModelIntegrityError


def test_verify_accepts_the_published_bytes_only(tmp_path: Path) -> None:
    blob = tmp_path / "embedding_model.ckpt"
    blob.write_bytes(b"voiceauth")
    good = PublishedFile("embedding_model.ckpt", 9, file_sha256(blob))
    verify_file(blob, good)
    with pytest.raises(ModelIntegrityError, match="9 bytes, published file has 10"):
        verify_file(blob, PublishedFile("embedding_model.ckpt", 10, None))
    with pytest.raises(ModelIntegrityError, match="does not match the published"):
        verify_file(blob, PublishedFile("embedding_model.ckpt", 9, "0" * 64))


def test_fetch_without_internet_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "ecapa"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run(
        [sys.executable, "-m", "voiceauth", "models", "fetch", "ecapa", "--ecapa-dir", str(dest)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "cannot download hyperparams.yaml" in done.stderr
    assert "voiceauth models fetch ecapa" in done.stderr
    assert not dest.exists()
    assert not dest.with_name("ecapa.partial").exists()
