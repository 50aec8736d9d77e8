"""Generic WebSocket protocol messages: round trips, defaults, and every defect named."""

from __future__ import annotations

import json

import pytest

from voiceauth.errors import MalformedFrame
from voiceauth.transports.ws.messages import (
    WsDtmf,
    WsError,
    WsStart,
    WsStarted,
    WsStop,
    dumps,
    parse_client,
    parse_server,
)

MESSAGES = [
    WsStart("call-1"),
    WsStart(
        "call-2",
        ani="+4930123",
        dnis="+4940999",
        customer_id="c-7",
        sample_rate=16000,
        encoding="mulaw",
        tracks=("caller", "agent"),
        parameters={"queue": "cards"},
    ),
    WsStart("call-3", tracks=("agent",)),
    WsDtmf("#"),
    WsStop(),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.event)
def test_client_messages_round_trip(message: WsStart | WsDtmf | WsStop) -> None:
    assert parse_client(dumps(message)) == message
    assert dumps(parse_client(dumps(message))) == dumps(message)


def test_server_messages_round_trip() -> None:
    for message in (WsStarted("call-1"), WsError("malformed", "ws audio: 3 bytes")):
        assert parse_server(dumps(message)) == message


def test_minimal_start_takes_the_defaults() -> None:
    start = parse_client('{"event": "start", "call_id": "c"}')
    assert start == WsStart("c", sample_rate=8000, encoding="pcm_s16le", tracks=("caller",))
    assert isinstance(start, WsStart) and start.frame_bytes == 2
    stereo = parse_client('{"event":"start","call_id":"c","channels":2,"encoding":"mulaw"}')
    assert isinstance(stereo, WsStart) and stereo.tracks == ("caller", "agent")
    assert stereo.frame_bytes == 2


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"event": "start"}, "'call_id' is required"),
        ({"event": "start", "call_id": 5}, "'call_id' must be a string of at most 128"),
        ({"event": "start", "call_id": "x" * 129}, "at most 128"),
        ({"event": "start", "call_id": "c", "sample_rate": 44100}, "one of 8000, 16000, got 44100"),
        ({"event": "start", "call_id": "c", "encoding": "opus"}, "one of pcm_s16le, mulaw"),
        ({"event": "start", "call_id": "c", "track": "both"}, "'track' must be one of caller"),
        ({"event": "start", "call_id": "c", "channels": True}, "'channels' must be one of 1, 2"),
        ({"event": "start", "call_id": "c", "channels": 2, "track": "caller"}, "not both"),
        ({"event": "start", "call_id": "c", "parameters": {"a": 1}}, "object of strings"),
        ({"event": "dtmf", "digit": "55"}, "'55' is not a DTMF digit"),
        ({"event": "media"}, "unknown event 'media'; known: dtmf, start, stop"),
        ([], "a JSON list, expected an object"),
    ],
)
def test_defects_are_named(document: object, expected: str) -> None:
    with pytest.raises(MalformedFrame, match=expected):
        parse_client(json.dumps(document))


def test_not_json() -> None:
    with pytest.raises(MalformedFrame, match=r"ws message: not JSON \(Expecting value\)"):
        parse_client("hello")
