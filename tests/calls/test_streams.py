"""Live update fan-out: per-call filtering, and slow consumers cut off, never waited for."""

from __future__ import annotations

import asyncio

from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.calls.streams import DEFAULT_MAX_QUEUE, SLOW_CONSUMER, Broadcaster


def snap(call_id: str, audio_s: float = 0.0) -> CallSnapshot:
    return CallSnapshot(call_id, "test", VoiceState.COLLECTING, audio_s=audio_s)


def test_filtering_and_slow_consumers() -> None:
    async def run() -> None:
        hub = Broadcaster()
        one, every, slow = hub.subscribe("a"), hub.subscribe(), hub.subscribe()
        hub.publish(snap("a"))
        hub.publish(snap("b"))
        assert (await one.next()).call_id == "a"  # type: ignore[union-attr]
        assert one.queue.empty()
        assert [(await every.next()).call_id for _ in range(2)] == ["a", "b"]  # type: ignore[union-attr]
        for i in range(DEFAULT_MAX_QUEUE):
            hub.publish(snap("c", i))
            await every.next()  # a desk that keeps up
        assert await slow.next() is None and slow.closed_reason == SLOW_CONSUMER
        assert every.closed_reason is None
        hub.close_all("bye")
        assert await every.next() is None and every.closed_reason == "bye"

    asyncio.run(run())


def test_snapshot_views_hide_scores_from_platforms() -> None:
    matched = CallSnapshot("x", "twilio", VoiceState.MATCH, voice_llr=3.0, dtmf="1234")
    fields = matched.platform_fields()
    assert fields == {
        "voiceauthState": "match",
        "voiceauthVerified": "true",
        "voiceauthFraudSuspected": "false",
    }
    data = matched.to_dict()
    assert "dtmf" not in data and data["confidence"] > 0.95
