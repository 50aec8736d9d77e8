"""Twilio Media Streams messages, as Twilio sends them over the WebSocket: parse and serialise.

Follows Twilio's "Media Streams - WebSocket Messages" (protocol "Call", version 1.0.0):
`connected` first, one `start`, then `media`, `dtmf` and (bidirectional streams only) `mark`,
and `stop`. Twilio writes `sequenceNumber`, `media.chunk` and `media.timestamp` as JSON strings
holding decimal numbers, `mediaFormat.sampleRate`/`channels` as numbers, and `dtmf.track` as
`inbound_track` while `media.track` is `inbound` or `outbound`; serialising reproduces that,
so `parse_message(dumps(m)) == m`. Every defect raises MalformedFrame naming event and field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from voiceauth.errors import MalformedFrame

PROTOCOL = "Call"
PROTOCOL_VERSION = "1.0.0"
MULAW = "audio/x-mulaw"
"""The only encoding Media Streams carries: G.711 µ-law, 8000 Hz, mono."""
INBOUND = "inbound"
"""media.track of the caller's audio (what the phone sends to Twilio)."""
OUTBOUND = "outbound"
"""media.track of the audio Twilio plays to the caller: the agent or IVR."""
MEDIA_TRACKS = (INBOUND, OUTBOUND)
DTMF_TRACK = "inbound_track"
DTMF_DIGITS = frozenset("0123456789*#ABCD")


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise MalformedFrame(f"{where}: missing field {key!r}")
    return data[key]


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _field(data, key, where)
    if not isinstance(value, str):
        raise MalformedFrame(f"{where}: {key!r} must be a string, got {type(value).__name__}")
    return value


def _number(data: Mapping[str, Any], key: str, where: str) -> int:
    """A non-negative integer that Twilio writes as a decimal string (a JSON int is accepted)."""
    value = _field(data, key, where)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise MalformedFrame(f"{where}: {key!r} must be a non-negative decimal number, got {value!r}")


def _object(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = _field(data, key, where)
    if not isinstance(value, dict):
        raise MalformedFrame(f"{where}: {key!r} must be an object, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class MediaFormat:
    encoding: str = MULAW
    sample_rate: int = 8000
    channels: int = 1

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        where = "Twilio start.mediaFormat"
        rate, channels = _field(data, "sampleRate", where), _field(data, "channels", where)
        if not (isinstance(rate, int) and isinstance(channels, int)):
            raise MalformedFrame(f"{where}: sampleRate and channels must be numbers")
        return cls(_text(data, "encoding", where), rate, channels)

    def to_json(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "sampleRate": self.sample_rate,
            "channels": self.channels,
        }

    @property
    def is_mulaw_8k_mono(self) -> bool:
        return (self.encoding, self.sample_rate, self.channels) == (MULAW, 8000, 1)


@dataclass(frozen=True, slots=True)
class Connected:
    event: ClassVar[str] = "connected"
    protocol: str = PROTOCOL
    version: str = PROTOCOL_VERSION

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        where = "Twilio connected"
        return cls(_text(data, "protocol", where), _text(data, "version", where))

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "protocol": self.protocol, "version": self.version}


@dataclass(frozen=True, slots=True)
class Start:
    """custom_parameters: the TwiML `<Parameter>` values of the `<Stream>`, strings only."""

    event: ClassVar[str] = "start"
    sequence_number: int
    stream_sid: str
    account_sid: str
    call_sid: str
    tracks: tuple[str, ...] = (INBOUND,)
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    media_format: MediaFormat = MediaFormat()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        where = "Twilio start"
        body = _object(data, "start", where)
        tracks = _field(body, "tracks", where)
        if not (isinstance(tracks, list) and tracks and all(t in MEDIA_TRACKS for t in tracks)):
            raise MalformedFrame(f"{where}: 'tracks' must list {' and/or '.join(MEDIA_TRACKS)}")
        params = _object(body, "customParameters", where) if "customParameters" in body else {}
        if not all(isinstance(v, str) for v in params.values()):
            raise MalformedFrame(f"{where}: customParameters values must be strings")
        return cls(
            sequence_number=_number(data, "sequenceNumber", where),
            stream_sid=_text(body, "streamSid", where),
            account_sid=_text(body, "accountSid", where),
            call_sid=_text(body, "callSid", where),
            tracks=tuple(tracks),
            custom_parameters=dict(params),
            media_format=MediaFormat.from_json(_object(body, "mediaFormat", where)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "sequenceNumber": str(self.sequence_number),
            "start": {
                "accountSid": self.account_sid,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": list(self.tracks),
                "customParameters": dict(self.custom_parameters),
                "mediaFormat": self.media_format.to_json(),
            },
            "streamSid": self.stream_sid,
        }


@dataclass(frozen=True, slots=True)
class Media:
    """One chunk of µ-law audio; timestamp_ms: presentation time from the stream's start."""

    event: ClassVar[str] = "media"
    sequence_number: int
    stream_sid: str
    track: str
    chunk: int
    timestamp_ms: int
    payload: bytes

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        where = "Twilio media"
        body = _object(data, "media", where)
        track = _text(body, "track", where)
        if track not in MEDIA_TRACKS:
            raise MalformedFrame(f"{where}: unknown track {track!r}; known: {MEDIA_TRACKS}")
        try:
            payload = base64.b64decode(_text(body, "payload", where), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedFrame(f"{where}: 'payload' is not valid base64") from None
        if not payload:
            raise MalformedFrame(f"{where}: empty payload")
        return cls(
            sequence_number=_number(data, "sequenceNumber", where),
            stream_sid=_text(data, "streamSid", where),
            track=track,
            chunk=_number(body, "chunk", where),
            timestamp_ms=_number(body, "timestamp", where),
            payload=payload,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "sequenceNumber": str(self.sequence_number),
            "media": {
                "track": self.track,
                "chunk": str(self.chunk),
                "timestamp": str(self.timestamp_ms),
                "payload": base64.b64encode(self.payload).decode("ascii"),
            },
            "streamSid": self.stream_sid,
        }


@dataclass(frozen=True, slots=True)
class Dtmf:
    event: ClassVar[str] = "dtmf"
    sequence_number: int
    stream_sid: str
    digit: str
    track: str = DTMF_TRACK

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        where = "Twilio dtmf"
        body = _object(data, "dtmf", where)
        digit = _text(body, "digit", where)
        if digit not in DTMF_DIGITS:
            raise MalformedFrame(f"{where}: {digit!r} is not a DTMF digit (0-9, *, #, A-D)")
        return cls(
            sequence_number=_number(data, "sequenceNumber", where),
            stream_sid=_text(data, "streamSid", where),
            digit=digit,
            track=_text(body, "track", where),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "streamSid": self.stream_sid,
            "sequenceNumber": str(self.sequence_number),
            "dtmf": {"track": self.track, "digit": self.digit},
        }


@dataclass(frozen=True, slots=True)
class Mark:
    """Twilio's echo of a mark the application sent (bidirectional streams only)."""

    event: ClassVar[str] = "mark"
    sequence_number: int
    stream_sid: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        where = "Twilio mark"
        return cls(
            sequence_number=_number(data, "sequenceNumber", where),
            stream_sid=_text(data, "streamSid", where),
            name=_text(_object(data, "mark", where), "name", where),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "sequenceNumber": str(self.sequence_number),
            "streamSid": self.stream_sid,
            "mark": {"name": self.name},
        }


@dataclass(frozen=True, slots=True)
class Stop:
    event: ClassVar[str] = "stop"
    sequence_number: int
    stream_sid: str
    account_sid: str
    call_sid: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        where = "Twilio stop"
        body = _object(data, "stop", where)
        return cls(
            sequence_number=_number(data, "sequenceNumber", where),
            stream_sid=_text(data, "streamSid", where),
            account_sid=_text(body, "accountSid", where),
            call_sid=_text(body, "callSid", where),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "sequenceNumber": str(self.sequence_number),
            "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
            "streamSid": self.stream_sid,
        }


TwilioMessage = Connected | Start | Media | Dtmf | Mark | Stop
KINDS: dict[str, type[TwilioMessage]] = {
    kind.event: kind for kind in (Connected, Start, Media, Dtmf, Mark, Stop)
}


def parse_message(text: str | bytes) -> TwilioMessage:
    """One WebSocket message from Twilio (always a JSON text frame)."""
    if isinstance(text, bytes):
        raise MalformedFrame("Twilio message: binary frame; Media Streams sends JSON text")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedFrame(f"Twilio message: not JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise MalformedFrame(f"Twilio message: a JSON {type(data).__name__}, expected an object")
    event = data.get("event")
    kind = KINDS.get(event) if isinstance(event, str) else None
    if kind is None:
        raise MalformedFrame(
            f"Twilio message: unknown event {event!r}; known: {', '.join(sorted(KINDS))}"
        )
    return kind.from_json(data)


def dumps(message: TwilioMessage) -> str:
    """The message as Twilio writes it."""
    return json.dumps(message.to_json(), separators=(",", ":"))
