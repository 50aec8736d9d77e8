import numpy as np
import pytest

from voiceauth.embeddings.base import Embedding, mean_embedding, require_same_embedder
from voiceauth.errors import EmbedderMismatch


def emb(vector: list[float], speech: float = 1.0, version: str = "v1") -> Embedding:
    return Embedding("ge2e", version, np.asarray(vector, dtype=np.float32), speech)


def test_mean_embedding_weights_normalised_vectors_by_speech() -> None:
    mean = mean_embedding([emb([10.0, 0.0], 3.0), emb([0.0, 1.0], 1.0)])
    np.testing.assert_allclose(mean.vector, [0.75, 0.25])
    assert mean.net_speech_s == 4.0
    assert mean.model == "ge2e@v1"


def test_embeddings_of_other_models_are_refused() -> None:
    with pytest.raises(EmbedderMismatch, match="ge2e@v1 cannot be compared with ge2e@v2"):
        mean_embedding([emb([1.0, 0.0]), emb([0.0, 1.0], version="v2")])
    with pytest.raises(EmbedderMismatch):
        require_same_embedder("ecapa@a", "ge2e@a")
    require_same_embedder("ecapa@a", "ecapa@a")


def test_mean_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        mean_embedding([])
