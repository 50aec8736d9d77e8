"""AudioHook v2 messages as text, sequence numbers and positions, media negotiation and the
open parameters that become a call."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest

from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.errors import MalformedFrame
from voiceauth.transports.audiohook.messages import CLIENT_TYPES, SERVER_TYPES, Message
from voiceauth.transports.audiohook.parameters import (
    MediaFormat,
    OpenParameters,
    choose_media,
    close_reason,
)
from voiceauth.transports.audiohook.sequence import SequenceError, Sequencer

SESSION = "e160e428-53e2-487c-977d-96989bf5c99d"
ORG = "d7934305-0972-4844-938e-9060eef73d05"
CONVERSATION = "090eaa2f-72fa-480a-83e0-8667ff89c0ec"
STEREO = {"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}
MONO = {"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}
OPEN = (
    '{"version":"2","id":"e160e428-53e2-487c-977d-96989bf5c99d","type":"open","seq":1,'
    '"serverseq":0,"position":"PT0S","parameters":{'
    '"organizationId":"d7934305-0972-4844-938e-9060eef73d05",'
    '"conversationId":"090eaa2f-72fa-480a-83e0-8667ff89c0ec",'
    '"participant":{"id":"883efee8-3d6c-4537-b500-6d7ca4b92fa0","ani":"tel:+16165550100",'
    '"aniName":"John Doe","dnis":"tel:+18005550100"},'
    '"media":[{"type":"audio","format":"PCMU","channels":["external","internal"],"rate":8000},'
    '{"type":"audio","format":"PCMU","channels":["external"],"rate":8000}],'
    '"language":"en-US","customConfig":{"customerId":"c-225"}}}'
)
"""An `open` as the protocol documents it (ids, participant, both media offers)."""


def test_a_documented_open_parses_and_serialises_back() -> None:
    message = Message.parse(OPEN)
    assert (message.type, message.id, message.seq, message.serverseq) == ("open", SESSION, 1, 0)
    assert message.position == Decimal(0)
    assert json.loads(message.dumps()) == json.loads(OPEN)


@pytest.mark.parametrize("kind", sorted(CLIENT_TYPES))
def test_every_client_message_round_trips(kind: str) -> None:
    message = Message(kind, SESSION, 7, {"reason": "end"}, serverseq=3, position=Decimal("12.34"))
    assert Message.parse(bytes(message)) == message
    assert '"position":"PT12.34S"' in message.dumps()


@pytest.mark.parametrize("kind", sorted(SERVER_TYPES))
def test_every_server_message_round_trips(kind: str) -> None:
    message = Message(kind, SESSION, 2, {"outputVariables": {"a": "b"}}, clientseq=5)
    assert Message.parse(message.dumps()) == message
    assert "position" not in message.dumps()


def envelope(**changes: object) -> str:
    document = json.loads(OPEN)
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None})


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (envelope(version="1"), "version '1', need '2'"),
        (envelope(type="hello"), "unknown type 'hello'"),
        (envelope(id="session-1"), "open: id must be a UUID"),
        (envelope(seq=0), "open: seq must be an integer >= 1"),
        (envelope(seq=True), "open: seq must be an integer >= 1"),
        (envelope(serverseq=None), "open: serverseq must be an integer >= 0"),
        (envelope(position="1.5"), "open position: expected a duration like PT1.24S"),
        (envelope(position="PT-1S"), "expected a duration"),
        (envelope(parameters=[]), "parameters must be an object"),
    ],
)
def test_each_defect_has_its_own_message(text: str, error: str) -> None:
    with pytest.raises(MalformedFrame, match=error):
        Message.parse(text)


def test_a_server_message_needs_clientseq() -> None:
    text = json.dumps({"version": "2", "id": SESSION, "type": "pong", "seq": 1, "parameters": {}})
    with pytest.raises(MalformedFrame, match="pong: clientseq must be an integer"):
        Message.parse(text)


def test_sequence_numbers_and_echoes_are_checked_on_both_sides() -> None:
    client, server = Sequencer(SESSION, client=True), Sequencer(SESSION, client=False)
    server.accept(client.message("open"))
    client.accept(server.message("opened"))
    server.accept(client.message("ping"))
    client.accept(server.message("pong"))
    assert (client.sent, client.received, server.sent, server.received) == (2, 2, 2, 2)
    with pytest.raises(SequenceError, match="seq 4, expected 3"):
        server.accept(Message("ping", SESSION, 4, serverseq=2, position=Decimal(0)))
    with pytest.raises(SequenceError, match="acknowledges seq 9, only 2 sent"):
        server.accept(Message("ping", SESSION, 3, serverseq=9, position=Decimal(0)))
    other = "a6bd5e2e-d3e5-4d86-9c4b-2e1b6fe5ad3f"
    with pytest.raises(SequenceError, match="id is not this session's"):
        server.accept(Message("ping", other, 3, serverseq=2, position=Decimal(0)))
    with pytest.raises(SequenceError, match="not a message this side receives"):
        server.accept(Message("pong", SESSION, 3, clientseq=2))


def test_position_counts_audio_and_discarded_audio() -> None:
    client, server = Sequencer(SESSION, client=True), Sequencer(SESSION, client=False)
    client.samples = server.samples = 8000
    client.skip(Decimal("0.5"))
    message = client.message("discarded")
    assert message.position == Decimal("1.5")
    assert not server.position_matches(message)
    server.skip(Decimal("0.5"))
    assert server.position_matches(message)
    assert server.position_matches(
        Message("ping", SESSION, 2, serverseq=0, position=Decimal("1.51"))
    )  # within a frame


def test_stereo_is_chosen_when_offered_else_mono_external() -> None:
    offers = tuple(MediaFormat.parse(o) for o in (MONO, STEREO))
    assert choose_media(offers) == MediaFormat("PCMU", 8000, ("external", "internal"))
    assert choose_media(offers[:1]) == MediaFormat("PCMU", 8000, ("external",))
    unusable = [
        {**MONO, "format": "L16"},
        {**MONO, "rate": 16000},
        {**MONO, "channels": ["internal"]},
        {**STEREO, "channels": ["external", "external"]},
        {**MONO, "channels": ["external", "surround"]},
    ]
    assert choose_media(tuple(MediaFormat.parse(o) for o in unusable)) is None
    assert MediaFormat.parse(STEREO).to_json() == STEREO


def test_stereo_frames_are_split_per_sample_in_channel_order() -> None:
    caller = np.arange(-800, 800, 10, dtype=np.int16)
    agent = np.arange(800, -800, -10, dtype=np.int16)
    interleaved = np.stack([mulaw_encode(agent), mulaw_encode(caller)], axis=1).tobytes()
    tracks = MediaFormat("PCMU", 8000, ("internal", "external")).split(interleaved)
    assert np.array_equal(tracks["caller"], mulaw_decode(mulaw_encode(caller)))
    assert np.array_equal(tracks["agent"], mulaw_decode(mulaw_encode(agent)))
    with pytest.raises(MalformedFrame, match="3 bytes is not whole 2-channel samples"):
        MediaFormat.parse(STEREO).split(b"abc")


def test_open_parameters_become_the_call() -> None:
    params = OpenParameters.parse(Message.parse(OPEN).parameters)
    start = params.call_start(SESSION)
    assert (start.call_id, start.transport) == (CONVERSATION, "audiohook")
    assert (start.ani, start.dnis, start.customer_id) == ("+16165550100", "+18005550100", "c-225")
    assert start.parameters["audiohookSessionId"] == SESSION
    assert start.parameters["organizationId"] == ORG
    variables = {**Message.parse(OPEN).parameters, "inputVariables": {"customer_id": "c-9"}}
    assert OpenParameters.parse(variables).call_start(SESSION).customer_id == "c-9"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"conversationId": None}, "organizationId and conversationId are required"),
        ({"media": {}}, "media must be a list"),
        ({"media": [{"type": "audio"}]}, "media channels must be a list"),
        ({"participant": "x"}, "must be objects"),
        ({"continuedSessions": [{"serverseq": 1}]}, "continuedSessions must be a list"),
    ],
)
def test_bad_open_parameters_are_named(change: dict[str, object], error: str) -> None:
    params = {**Message.parse(OPEN).parameters, **change}
    with pytest.raises(MalformedFrame, match=error):
        OpenParameters.parse(params)


def test_close_reasons_are_the_protocols() -> None:
    assert [close_reason({"reason": r}) for r in ("end", "reconnect")] == ["end", "reconnect"]
    with pytest.raises(MalformedFrame, match="reason 'bye' is not one of"):
        close_reason({"reason": "bye"})
