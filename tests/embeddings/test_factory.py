from pathlib import Path

import pytest

from voiceauth.embeddings.factory import create_embedder, resolve_embedder_name
from voiceauth.errors import ConfigError, ModelNotFound


def test_auto_is_ge2e_until_an_ecapa_checkpoint_appears(tmp_path: Path) -> None:
    assert resolve_embedder_name("auto", ecapa_dir=tmp_path) == "ge2e"
    (tmp_path / "embedding_model.ckpt").write_bytes(b"")
    assert resolve_embedder_name("auto", ecapa_dir=tmp_path) == "ecapa"
    assert resolve_embedder_name("ge2e", ecapa_dir=tmp_path) == "ge2e"


def test_unknown_embedder_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown embedder 'xvector'; choose one of auto, ecapa"):
        resolve_embedder_name("xvector", ecapa_dir=tmp_path)


def test_ecapa_without_checkpoint_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="voiceauth models fetch ecapa"):
        create_embedder("ecapa", ecapa_dir=tmp_path / "missing")
