"""The call service on real speech: genuine callers match, impostors and handed-over phones
do not, silence and missing consent or enrolment are states, never guesses."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import yaml

from voiceauth.calls.assess import CallAssessor
from voiceauth.calls.engine import CallEngine
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.service import CallService
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.errors import CallExists, CallRejected, UnknownCall
from voiceauth.fusion.levels import DEFAULT_POLICY, LevelPolicy
from voiceauth.store import VoiceprintStore
from voiceauth.transports.base import CallStart, Track

from .conftest import Pcm

FRAME = 160


async def play(service: CallService, call_id: str, pcm: Pcm, *, track: Track = "caller") -> None:
    for i in range(0, len(pcm), FRAME):
        await service.audio(call_id, track, pcm[i : i + FRAME])
        if i % (FRAME * 25) == 0:
            await service.settled()  # as if paced in real time: the worker keeps up


def call(
    store: VoiceprintStore,
    engine: CallEngine,
    claim: str | None,
    pcm: Pcm,
    *,
    track: Track = "caller",
) -> CallSnapshot:
    async def run() -> CallSnapshot:
        service = CallService(store, CallMetrics())
        service.attach(engine)
        async with service.running():
            await service.start(CallStart("call-1", "test", customer_id=claim))
            await play(service, "call-1", pcm, track=track)
            return await service.end("call-1", "hangup")

    return asyncio.run(run())


def test_genuine_caller_matches_and_impostor_does_not(
    enrolled: VoiceprintStore, engine: CallEngine, calls_of: dict[str, list[Pcm]]
) -> None:
    genuine = call(enrolled, engine, "p225", np.concatenate(calls_of["p225"][:2]))
    assert genuine.voice_state is VoiceState.MATCH, genuine.reasons
    assert genuine.voice_llr is not None and genuine.voice_llr > 0
    assert genuine.decided_after_speech_s is not None and genuine.decided_after_speech_s >= 3.0
    assert genuine.confidence is not None and genuine.confidence > 0.5
    impostor = call(enrolled, engine, "p225", np.concatenate(calls_of["p227"][:2]))
    assert impostor.voice_state is VoiceState.MISMATCH, impostor.reasons
    assert impostor.voice_llr is not None and impostor.voice_llr < 0
    assert impostor.ended and impostor.end_reason == "hangup"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_silent_caller_stays_collecting(enrolled: VoiceprintStore, engine: CallEngine) -> None:
    hiss = np.random.default_rng(0).normal(0, 30, 8000 * 10).astype(np.int16)
    silent = call(enrolled, engine, "p225", hiss)
    assert silent.voice_state is VoiceState.COLLECTING
    assert silent.net_speech_s < 1.0 and silent.voice_llr is None
    assert silent.audio_s == pytest.approx(10.0)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("claim", "state", "reason"),
    [
        ("no-consent", VoiceState.NO_CONSENT, "no voice-biometrics consent"),
        ("not-enrolled", VoiceState.NOT_ENROLLED, "no voiceprint"),
        ("stranger", VoiceState.NOT_ENROLLED, "customer not on file"),
    ],
)
def test_claims_that_cannot_be_checked_by_voice(
    enrolled: VoiceprintStore,
    engine: CallEngine,
    calls_of: dict[str, list[Pcm]],
    claim: str,
    state: VoiceState,
    reason: str,
) -> None:
    result = call(enrolled, engine, claim, calls_of["p225"][0])
    assert result.voice_state is state
    assert reason in result.reasons[0]
    assert result.voice_llr is None  # nothing was scored


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_handed_over_phone_is_a_change_of_speaker(
    enrolled: VoiceprintStore, engine: CallEngine, calls_of: dict[str, list[Pcm]]
) -> None:
    audio = np.concatenate([*calls_of["p225"], *calls_of["p227"]])
    result = call(enrolled, engine, "p225", audio)
    assert result.speaker_changed
    assert result.voice_state is VoiceState.MISMATCH
    assert "different speaker" in result.reasons[0]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_agent_track_is_kept_apart(
    enrolled: VoiceprintStore, engine: CallEngine, calls_of: dict[str, list[Pcm]]
) -> None:
    result = call(enrolled, engine, "p225", calls_of["p225"][0], track="agent")
    assert result.net_speech_s == 0.0 and result.voice_state is VoiceState.COLLECTING


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_call_lifecycle_errors_and_drain(enrolled: VoiceprintStore, engine: CallEngine) -> None:
    async def run() -> None:
        service = CallService(enrolled, CallMetrics(), max_calls=2)
        with pytest.raises(CallRejected, match="loading"):
            await service.start(CallStart("early", "test"))
        service.attach(engine)
        async with service.running():
            await service.start(CallStart("a", "test"))
            with pytest.raises(CallExists):
                await service.start(CallStart("a", "test"))
            await service.start(CallStart("a", "rtp"), attach=True)  # joins, no error
            await service.start(CallStart("b", "test"))
            with pytest.raises(CallRejected, match="limit of 2"):
                await service.start(CallStart("c", "test"))
            with pytest.raises(UnknownCall):
                await service.audio("nope", "caller", np.zeros(FRAME, np.int16))
            ended = await service.drain(0.1)
            assert {s.call_id for s in ended} == {"a", "b"}
            assert all(s.end_reason == "shutdown" for s in ended)
            with pytest.raises(CallRejected, match="shutting down"):
                await service.start(CallStart("d", "test"))
            with pytest.raises(UnknownCall):
                await service.audio("a", "caller", np.zeros(FRAME, np.int16))
            assert service.snapshot("a").ended  # results are kept after the call
        rejected = service.metrics.rejected_calls
        assert rejected.labels("test", "full")._value.get() == 1
        assert rejected.labels("test", "draining")._value.get() == 1

    asyncio.run(run())


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_live_updates_reach_subscribers(
    enrolled: VoiceprintStore, engine: CallEngine, calls_of: dict[str, list[Pcm]]
) -> None:
    async def run() -> list[CallSnapshot]:
        service = CallService(enrolled, CallMetrics())
        service.attach(engine)
        seen: list[CallSnapshot] = []
        async with service.running():
            subscription = service.updates.subscribe("live")
            await service.start(CallStart("live", "test", customer_id="p225"))
            await play(service, "live", calls_of["p225"][0])
            await service.end("live", "hangup")
            while (update := await subscription.next()) is not None and not update.ended:
                seen.append(update)
            assert update is not None
            seen.append(update)
        return seen

    seen = asyncio.run(run())
    speech = [s.net_speech_s for s in seen]
    assert speech == sorted(speech) and speech[-1] > 3.0
    assert seen[-1].ended and seen[0].voice_state is VoiceState.COLLECTING


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_keyed_customer_number_claims_the_call(
    enrolled: VoiceprintStore, engine: CallEngine
) -> None:
    """On a line whose policy allows two tries and no caller-ID lookup (shared phones)."""
    document = yaml.safe_load(DEFAULT_POLICY.read_text())
    document["lines"]["default"]["identify"] = {"ani_lookup": False, "keyed_attempts": 2}
    policy = LevelPolicy.parse(document)
    enrolled.add_customer(actor="test", customer_id="owner", phones=["+4670111222"])

    async def run() -> tuple[CallSnapshot, CallSnapshot]:
        assessor = CallAssessor(policy=lambda: policy)
        service = CallService(enrolled, CallMetrics(), assessor=assessor)
        service.attach(engine)
        async with service.running():
            await service.start(CallStart("k", "test", ani="+4670111222"))
            assert service.snapshot("k").customer_id is None  # the phone is not the caller
            for digit in "999#p225#":  # "p" is no key, but the digits are only compared
                await service.dtmf("k", digit)
            keyed = service.snapshot("k")
            await service.start(CallStart("u", "test"))
            for digit in "1#2#3#":
                await service.dtmf("u", digit)
            return keyed, service.snapshot("u")

    keyed, unknown = asyncio.run(run())
    assert keyed.customer_id == "p225" and keyed.voice_state is VoiceState.COLLECTING
    assert unknown.customer_id is None and "route to an agent" in unknown.reasons[0]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_drain_has_one_deadline_however_many_steps(store: VoiceprintStore) -> None:
    async def run() -> None:
        service = CallService(store, CallMetrics())
        left = service.begin_drain(5.0)
        assert service.draining and 4.0 < left <= 5.0
        assert service.begin_drain(100.0) <= left  # a later step does not extend it
        with pytest.raises(CallRejected, match="loading|shutting down"):
            await service.start(CallStart("late", "test"))

    asyncio.run(run())
