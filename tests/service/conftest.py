"""Service fixtures: the whole `voiceauth serve` app around a real store and real models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api.conftest import LINES
from fastapi.testclient import TestClient

from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.service.app import create_service_app
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore


@pytest.fixture
def service_client(
    store: VoiceprintStore,  # noqa: F811  (the fixture imported above)
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    tmp_path: Path,
) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path, api_keys=",".join(LINES), drain_timeout_s=0)  # type: ignore[arg-type]
    app = create_service_app(settings, store, embedder=ge2e, vad=vad)
    with TestClient(app) as opened:
        yield opened
