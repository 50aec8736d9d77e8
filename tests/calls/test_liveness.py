"""Liveness in live calls: the countermeasure scores the caller's speech from 3 s on, and a
YourTTS clone of the customer, which the voice match alone accepts, is not let through."""

from __future__ import annotations

import asyncio

import pytest

from voiceauth.calls.engine import CallEngine
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.service import CallService
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.service.liveness import call_liveness
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore
from voiceauth.transports.base import CallStart

from .conftest import MODELS, Pcm
from .test_service import play

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def run(store: VoiceprintStore, engine: CallEngine, pcm: Pcm) -> CallSnapshot:
    async def call() -> CallSnapshot:
        service = CallService(store, CallMetrics())
        service.attach(engine)
        async with service.running():
            await service.start(CallStart("c", "test", customer_id="p225"))
            await play(service, "c", pcm)
            return await service.end("c", "hangup")

    return asyncio.run(call())


def test_a_clone_of_the_customer_is_not_let_through(
    enrolled: VoiceprintStore, engine: CallEngine, ge2e: Ge2eEmbedder, clone_of_p225: Pcm
) -> None:
    # GE2E alone scores this clone near its FMR-1 % threshold (LLR about 2.3 against 2.2):
    # the voice match by itself would often accept it.
    settings = Settings()
    model = f"{ge2e.embedder_id}@{ge2e.version}"
    liveness = call_liveness(settings.cm, settings.countermeasure_dir, MODELS, model)
    assert liveness.fusion is not None  # the shipped pair is judged by its learned fusion
    guarded = CallEngine(
        vad=engine.vad,
        embedder=ge2e,
        scorer=engine.scorer,
        policy=engine.policy,
        liveness=liveness,
    )
    result = run(enrolled, guarded, clone_of_p225)
    assert result.liveness_llr is not None
    assert result.voice_state is not VoiceState.MATCH, result.reasons
