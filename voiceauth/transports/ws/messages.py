"""The generic WebSocket protocol's JSON messages: parse and serialise.

For platforms without a dedicated transport. The client opens with one text message
`{"event": "start", "call_id", "ani", "dnis", "customer_id", "sample_rate": 8000|16000,
"encoding": "pcm_s16le"|"mulaw", "track": "caller"|"agent"}` (or `"channels": 2`: interleaved
caller and agent, caller first), then sends audio as binary frames and may send
`{"event": "dtmf", "digit": "5"}` and `{"event": "stop"}`. The service answers only
`{"event": "started", "call_id"}` and `{"event": "error", "code", "message"}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from voiceauth.errors import MalformedFrame
from voiceauth.transports.base import TRACKS, Track

SAMPLE_RATES = (8000, 16000)
ENCODINGS = ("pcm_s16le", "mulaw")
SAMPLE_BYTES = {"pcm_s16le": 2, "mulaw": 1}
MAX_ID_CHARS = 128
DTMF_DIGITS = frozenset("0123456789*#ABCD")


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not (isinstance(value, str) and len(value) <= MAX_ID_CHARS):
        raise MalformedFrame(f"ws start: {key!r} must be a string of at most {MAX_ID_CHARS}")
    return value


def _choice(data: Mapping[str, Any], key: str, allowed: tuple[Any, ...], default: Any) -> Any:
    value = data.get(key, default)
    if value not in allowed or isinstance(value, bool):
        listed = ", ".join(map(str, allowed))
        raise MalformedFrame(f"ws start: {key!r} must be one of {listed}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class WsStart:
    """tracks: the one track the binary frames carry, or ("caller", "agent") interleaved."""

    event: ClassVar[str] = "start"
    call_id: str
    ani: str | None = None
    dnis: str | None = None
    customer_id: str | None = None
    sample_rate: int = 8000
    encoding: str = "pcm_s16le"
    tracks: tuple[Track, ...] = ("caller",)
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample on every track: binary frames are whole multiples of it."""
        return SAMPLE_BYTES[self.encoding] * len(self.tracks)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        call_id = _optional_text(data, "call_id")
        if not call_id:
            raise MalformedFrame("ws start: 'call_id' is required")
        if "channels" in data and "track" in data:
            raise MalformedFrame("ws start: give 'track' or 'channels', not both")
        if _choice(data, "channels", (1, 2), 1) == 2:
            tracks: tuple[Track, ...] = TRACKS
        else:
            tracks = (_choice(data, "track", TRACKS, "caller"),)
        parameters = data.get("parameters", {})
        if not (
            isinstance(parameters, dict) and all(isinstance(v, str) for v in parameters.values())
        ):
            raise MalformedFrame("ws start: 'parameters' must be an object of strings")
        return cls(
            call_id=call_id,
            ani=_optional_text(data, "ani"),
            dnis=_optional_text(data, "dnis"),
            customer_id=_optional_text(data, "customer_id"),
            sample_rate=_choice(data, "sample_rate", SAMPLE_RATES, 8000),
            encoding=_choice(data, "encoding", ENCODINGS, "pcm_s16le"),
            tracks=tracks,
            parameters=dict(parameters),
        )

    def to_json(self) -> dict[str, Any]:
        layout: dict[str, Any] = (
            {"channels": 2} if len(self.tracks) == 2 else {"track": self.tracks[0]}
        )
        return {
            "event": self.event,
            "call_id": self.call_id,
            "ani": self.ani,
            "dnis": self.dnis,
            "customer_id": self.customer_id,
            "sample_rate": self.sample_rate,
            "encoding": self.encoding,
            **layout,
            "parameters": dict(self.parameters),
        }


@dataclass(frozen=True, slots=True)
class WsDtmf:
    event: ClassVar[str] = "dtmf"
    digit: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        digit = data.get("digit")
        if not (isinstance(digit, str) and digit in DTMF_DIGITS):
            raise MalformedFrame(f"ws dtmf: {digit!r} is not a DTMF digit (0-9, *, #, A-D)")
        return cls(digit)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "digit": self.digit}


@dataclass(frozen=True, slots=True)
class WsStop:
    event: ClassVar[str] = "stop"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls()

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event}


@dataclass(frozen=True, slots=True)
class WsStarted:
    event: ClassVar[str] = "started"
    call_id: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        call_id = data.get("call_id")
        if not isinstance(call_id, str):
            raise MalformedFrame("ws started: 'call_id' must be a string")
        return cls(call_id)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "call_id": self.call_id}


@dataclass(frozen=True, slots=True)
class WsError:
    """code: malformed, oversized, protocol, rejected, closed_call; message: for the operator."""

    event: ClassVar[str] = "error"
    code: str
    message: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        code, message = data.get("code"), data.get("message")
        if not (isinstance(code, str) and isinstance(message, str)):
            raise MalformedFrame("ws error: 'code' and 'message' must be strings")
        return cls(code, message)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "code": self.code, "message": self.message}


ClientMessage = WsStart | WsDtmf | WsStop
ServerMessage = WsStarted | WsError
CLIENT_KINDS: dict[str, type[ClientMessage]] = {k.event: k for k in (WsStart, WsDtmf, WsStop)}
SERVER_KINDS: dict[str, type[ServerMessage]] = {k.event: k for k in (WsStarted, WsError)}


def _event(text: str, kinds: Mapping[str, type[Any]]) -> tuple[type[Any], dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedFrame(f"ws message: not JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise MalformedFrame(f"ws message: a JSON {type(data).__name__}, expected an object")
    event = data.get("event")
    kind = kinds.get(event) if isinstance(event, str) else None
    if kind is None:
        raise MalformedFrame(
            f"ws message: unknown event {event!r}; known: {', '.join(sorted(kinds))}"
        )
    return kind, data


def parse_client(text: str) -> ClientMessage:
    """A text message from the platform."""
    kind, data = _event(text, CLIENT_KINDS)
    message: ClientMessage = kind.from_json(data)
    return message


def parse_server(text: str) -> ServerMessage:
    """A text message from the service (what clients read)."""
    kind, data = _event(text, SERVER_KINDS)
    message: ServerMessage = kind.from_json(data)
    return message


def dumps(message: ClientMessage | ServerMessage) -> str:
    return json.dumps(message.to_json(), separators=(",", ":"))
