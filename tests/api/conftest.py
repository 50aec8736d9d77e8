"""API fixtures: an app around a real store (SQLite, or PostgreSQL where marked), real models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from voiceauth.api import create_app
from voiceauth.api.keys import key_digest
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore

KEYS = {"ivr": "ivr-test-key", "desk": "desk-test-key", "dpo": "dpo-test-key"}
SCOPES = {"ivr": "telephony", "desk": "agent", "dpo": "admin"}
LINES = [f"{name}:{SCOPES[name]}:{key_digest(key)}" for name, key in KEYS.items()]


def headers(name: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[name]}


@pytest.fixture
def client(
    store: VoiceprintStore,
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    tmp_path: Path,
) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path, api_keys=",".join(LINES))  # type: ignore[arg-type]
    app = create_app(settings, store, embedder=ge2e, vad=vad)
    with TestClient(app) as opened:
        yield opened


def vctk(shared_data: Path, speaker: str) -> list[Path]:
    return sorted((shared_data / "autovc_vctk_samples" / speaker).glob("*.wav"))


def upload(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]
