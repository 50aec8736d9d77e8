"""Map an embedder name to a backend: `ecapa`, `ge2e`, or `auto` (ecapa when its checkpoint is
present, else ge2e), so voiceauth runs offline and upgrades itself when the checkpoint arrives."""

from __future__ import annotations

from pathlib import Path

from voiceauth.embeddings.base import Embedder
from voiceauth.errors import ConfigError

EMBEDDER_NAMES = ("auto", "ecapa", "ge2e")
ECAPA_CHECKPOINT = "embedding_model.ckpt"


def resolve_embedder_name(name: str, *, ecapa_dir: Path) -> str:
    """The concrete backend `name` stands for; `auto` looks for the ECAPA checkpoint."""
    if name not in EMBEDDER_NAMES:
        raise ConfigError(f"unknown embedder {name!r}; choose one of {', '.join(EMBEDDER_NAMES)}")
    if name == "auto":
        return "ecapa" if (ecapa_dir / ECAPA_CHECKPOINT).is_file() else "ge2e"
    return name


def create_embedder(name: str, *, ecapa_dir: Path, device: str = "cpu") -> Embedder:
    """Load the backend `name` names (models load here, never at import)."""
    backend = resolve_embedder_name(name, ecapa_dir=ecapa_dir)
    if backend == "ecapa":
        from voiceauth.embeddings.ecapa import EcapaEmbedder

        return EcapaEmbedder(ecapa_dir, device=device)
    from voiceauth.embeddings.ge2e import Ge2eEmbedder

    return Ge2eEmbedder(device=device)
