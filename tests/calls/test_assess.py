"""A call's level and route travel with every snapshot: factor results raise it live, a
spoof or watchlist hit sends it to the fraud queue, and the outcome is kept when it ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import pytest

from voiceauth.calls.assess import CallAssessor
from voiceauth.calls.engine import CallEngine
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.service import CallService
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.factors.results import CallFactors, FactorResult
from voiceauth.store import VoiceprintStore
from voiceauth.transports.base import CallStart

from .conftest import Pcm
from .test_service import play


def snapshot(**fields: object) -> CallSnapshot:
    base: dict[str, object] = {
        "call_id": "c",
        "transport": "test",
        "voice_state": VoiceState.COLLECTING,
    }
    return CallSnapshot(**{**base, **fields})  # type: ignore[arg-type]


def passed(results: CallFactors, *factors: str) -> None:
    for factor in factors:
        results.record("c", FactorResult(factor, True, datetime.now(UTC)))


@pytest.mark.parametrize(
    ("fields", "factors", "level", "route"),
    [
        ({}, (), 0, "agent_unauthenticated"),
        ({"customer_id": "x"}, (), 1, "step_up"),
        (
            {"customer_id": "x", "voice_state": VoiceState.MATCH},
            (),
            2,
            "agent_no_security_questions",
        ),
        ({"customer_id": "x", "voice_state": VoiceState.MATCH}, ("pin",), 3, "self_service"),
        ({"customer_id": "x"}, ("pin", "eid"), 4, "self_service"),
        ({"customer_id": "x", "voice_state": VoiceState.SPOOF}, ("eid",), 0, "fraud_queue"),
        ({"customer_id": "x", "watchlist_hit": True}, ("pin",), 0, "fraud_queue"),
    ],
)
def test_assessor_joins_voice_and_factors_into_level_and_route(
    fields: dict[str, object], factors: tuple[str, ...], level: int, route: str
) -> None:
    results = CallFactors()
    passed(results, *factors)
    results.record("c", FactorResult("otp", False, datetime.now(UTC)))  # failures count for nothing
    assessed = CallAssessor(results)(snapshot(**fields))
    assert assessed.assessment is not None
    assert (assessed.assessment.level, assessed.assessment.route) == (level, route)
    assert assessed.factors_verified == factors
    shown = assessed.to_dict()
    assert shown["level"]["route"] == route and shown["factors_verified"] == list(factors)
    platform = assessed.platform_fields()
    assert platform["voiceauthLevel"] == str(level) and platform["voiceauthRoute"] == route
    assert not any("llr" in key.lower() or "score" in key.lower() for key in platform)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_factor_results_republish_the_call_and_its_outcome_is_kept(
    enrolled: VoiceprintStore, engine: CallEngine, calls_of: dict[str, list[Pcm]]
) -> None:
    results = CallFactors()
    metrics = CallMetrics()

    async def run() -> tuple[list[CallSnapshot], str | None, str | None]:
        service = CallService(enrolled, metrics, assessor=CallAssessor(results), outcomes=enrolled)
        results.listeners.append(service.republish)
        service.attach(engine)
        seen: list[CallSnapshot] = []
        async with service.running():
            subscription = service.updates.subscribe("c")
            await service.start(CallStart("c", "test", dnis="+4680100", customer_id="p225"))
            await play(service, "c", np.concatenate(calls_of["p225"][:2]))
            await service.settled()
            for digit in "1234#":
                await service.dtmf("c", digit)
            keyed = await service.keyed("c")
            again = await service.keyed("c", wait_s=0.1)  # an entry is taken once
            passed(results, "pin")
            await service.end("c", "hangup")
            while (update := await subscription.next()) is not None:
                seen.append(update)
                if update.ended:
                    break
        return seen, keyed, again

    seen, keyed, again = asyncio.run(run())
    assert keyed == "1234" and again is None
    levels = [s.assessment.level for s in seen if s.assessment is not None]
    assert levels[0] == 1 and 2 in levels and levels[-1] == 3
    assert levels == sorted(levels)
    final = seen[-1]
    assert final.ended and final.factors_verified == ("pin",)
    assert final.verified_after_s is not None and final.verified_after_s > 0
    assert final.dtmf == ""  # the keyed PIN does not linger on the call
    (outcome,) = enrolled.outcomes()
    assert (outcome.call_id, outcome.level, outcome.route) == ("c", 3, "self_service")
    assert outcome.identified and outcome.voice_state == "match" and outcome.dnis == "+4680100"
    assert outcome.verified_after_s == final.verified_after_s
    assert outcome.end_reason == "hangup" and outcome.factors_verified == ("pin",)
    assert metrics.outcomes.labels("3", "self_service")._value.get() == 1
    assert metrics.countermeasure_rejections._value.get() == 0
    assert metrics.speech_to_decision._sum.get() == pytest.approx(final.decided_after_speech_s)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_transferred_call_keeps_its_claim_and_factors(
    enrolled: VoiceprintStore, engine: CallEngine
) -> None:
    results = CallFactors()

    async def run() -> CallSnapshot:
        service = CallService(enrolled, CallMetrics(), assessor=CallAssessor(results))
        service.attach(engine)
        async with service.running():
            await service.start(CallStart("t", "audiohook", customer_id="p225"))
            results.record("t", FactorResult("pin", True, datetime.now(UTC)))
            await service.end("t", "transferred")
            await service.start(CallStart("t", "audiohook"))  # the agent's queue, a new leg
            return service.snapshot("t")

    after = asyncio.run(run())
    assert after.customer_id == "p225" and after.factors_verified == ("pin",)
    assert after.assessment is not None and after.assessment.level == 2
    assert after.voice_state is VoiceState.COLLECTING  # the voice is heard again
