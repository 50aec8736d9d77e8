"""Twilio Media Streams messages: Twilio's documented examples round-trip, defects are named."""

from __future__ import annotations

import json

import pytest

from voiceauth.errors import MalformedFrame
from voiceauth.transports.twilio.endpoint import call_start
from voiceauth.transports.twilio.messages import (
    Connected,
    Dtmf,
    Mark,
    Media,
    MediaFormat,
    Start,
    Stop,
    dumps,
    parse_message,
)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
# Shaped as Twilio's "Media Streams - WebSocket Messages" page shows them.
DOCUMENTED = [
    {"event": "connected", "protocol": "Call", "version": "1.0.0"},
    {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": "AC123",
            "streamSid": SID,
            "callSid": "CA123",
            "tracks": ["inbound", "outbound"],
            "customParameters": {"FirstName": "Jane", "LastName": "Doe"},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
        "streamSid": SID,
    },
    {
        "event": "media",
        "sequenceNumber": "3",
        "media": {
            "track": "outbound",
            "chunk": "1",
            "timestamp": "5",
            "payload": (
                "no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDRg1qZSLh4aIjJevLBUMBwYHCx"
                "UqtpeNiIaHi5WkOxoOCAYGChEhT52PiYaGiZGdxCQRCQYGCQ4cQJ+QioaHiY6btiYSCwc="
            ),
        },
        "streamSid": SID,
    },
    {
        "event": "dtmf",
        "streamSid": SID,
        "sequenceNumber": "5",
        "dtmf": {"track": "inbound_track", "digit": "1"},
    },
    {"event": "mark", "sequenceNumber": "4", "streamSid": SID, "mark": {"name": "my label"}},
    {
        "event": "stop",
        "sequenceNumber": "5",
        "stop": {"accountSid": "AC123", "callSid": "CA123"},
        "streamSid": SID,
    },
]


@pytest.mark.parametrize("document", DOCUMENTED, ids=lambda d: str(d["event"]))
def test_documented_messages_round_trip(document: dict[str, object]) -> None:
    message = parse_message(json.dumps(document))
    assert json.loads(dumps(message)) == document
    assert parse_message(dumps(message)) == message


def test_fields_are_typed() -> None:
    start = parse_message(json.dumps(DOCUMENTED[1]))
    assert isinstance(start, Start)
    assert start.sequence_number == 1 and start.tracks == ("inbound", "outbound")
    assert start.media_format == MediaFormat() and start.media_format.is_mulaw_8k_mono
    media = parse_message(json.dumps(DOCUMENTED[2]))
    assert isinstance(media, Media)
    assert (media.chunk, media.timestamp_ms, len(media.payload)) == (1, 5, 104)
    assert parse_message(json.dumps(DOCUMENTED[3])) == Dtmf(5, SID, "1")
    assert parse_message(json.dumps(DOCUMENTED[4])) == Mark(4, SID, "my label")
    assert parse_message(json.dumps(DOCUMENTED[5])) == Stop(5, SID, "AC123", "CA123")
    assert parse_message(json.dumps(DOCUMENTED[0])) == Connected()


def test_numbers_sent_as_json_numbers_are_accepted() -> None:
    document = json.loads(json.dumps(DOCUMENTED[2]))
    document["media"]["chunk"], document["media"]["timestamp"] = 7, 140
    media = parse_message(json.dumps(document))
    assert isinstance(media, Media) and (media.chunk, media.timestamp_ms) == (7, 140)


def _broken(index: int, path: tuple[str, ...], value: object) -> str:
    document = json.loads(json.dumps(DOCUMENTED[index]))
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "Twilio message: not JSON"),
        ("[1, 2]", "a JSON list, expected an object"),
        ('{"event": "clear"}', "unknown event 'clear'; known: connected, dtmf, mark"),
        ('{"no": "event"}', "unknown event None"),
        (_broken(2, ("media", "payload"), "%%%not base64"), "'payload' is not valid base64"),
        (_broken(2, ("media", "payload"), ""), "Twilio media: empty payload"),
        (_broken(2, ("media", "track"), "both"), "unknown track 'both'"),
        (_broken(2, ("media", "chunk"), "-1"), "'chunk' must be a non-negative decimal"),
        (_broken(2, ("media", "timestamp"), ...), "Twilio media: missing field 'timestamp'"),
        (_broken(2, ("media",), "x"), "'media' must be an object, got str"),
        (_broken(2, ("streamSid",), 5), "'streamSid' must be a string, got int"),
        (_broken(1, ("start", "tracks"), ["inbound_track"]), "'tracks' must list inbound"),
        (_broken(1, ("start", "customParameters"), {"a": 1}), "values must be strings"),
        (_broken(1, ("start", "mediaFormat", "sampleRate"), "8000"), "must be numbers"),
        (_broken(1, ("start", "callSid"), ...), "Twilio start: missing field 'callSid'"),
        (_broken(3, ("dtmf", "digit"), "12"), "'12' is not a DTMF digit"),
        (_broken(4, ("mark", "name"), None), "Twilio mark: 'name' must be a string"),
        (_broken(5, ("sequenceNumber",), "five"), "'sequenceNumber' must be a non-negative"),
    ],
)
def test_defects_are_named(text: str, expected: str) -> None:
    with pytest.raises(MalformedFrame, match=expected.replace("(", r"\(")):
        parse_message(text)


def test_binary_frames_are_refused() -> None:
    with pytest.raises(MalformedFrame, match="binary frame; Media Streams sends JSON text"):
        parse_message(b'{"event": "connected"}')


def test_call_start_maps_twiml_parameters() -> None:
    start = Start(
        sequence_number=1,
        stream_sid=SID,
        account_sid="AC1",
        call_sid="CA9",
        custom_parameters={"from": "+4930123", "to": "+4940999", "customerId": "c-7", "x": "y"},
    )
    call = call_start(start)
    assert (call.call_id, call.transport) == ("CA9", "twilio")
    assert (call.ani, call.dnis, call.customer_id) == ("+4930123", "+4940999", "c-7")
    assert call.parameters["streamSid"] == SID and call.parameters["x"] == "y"
    bare = call_start(Start(1, SID, "AC1", "CA9", custom_parameters={"ani": "+1555"}))
    assert (bare.ani, bare.dnis, bare.customer_id) == ("+1555", None, None)
