"""AudioHook protocol version 2 text messages: the envelope every message shares.

Genesys Cloud's AudioHook protocol (developer.genesys.cloud, AudioHook protocol specification;
the message types of purecloudlabs/audiohook-reference-implementation): a JSON object with
`version` "2", `id` (the session's UUID), `type`, `seq` (1, 2, ... per sender), `parameters`
(an object); a client message also carries `serverseq` (the last server seq it saw) and
`position` (ISO 8601 duration of audio sent so far, `PT1.24S`), a server message `clientseq`.
The client (Genesys) sends open, ping, paused, resumed, update, discarded, error and close; the
server answers opened, pong, pause, resume, disconnect, reconnect, event, updated and closed.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from voiceauth.errors import MalformedFrame

VERSION = "2"
CLIENT_TYPES = frozenset(
    {"open", "close", "ping", "paused", "resumed", "update", "discarded", "error"}
)
SERVER_TYPES = frozenset(
    {"opened", "closed", "pong", "pause", "resume", "disconnect", "reconnect", "event", "updated"}
)
DURATION = re.compile(r"PT(\d{1,9}(?:\.\d{1,9})?)S")
"""The protocol's durations: seconds only, non-negative decimal."""


def parse_duration(text: object, where: str) -> Decimal:
    """`PT1.24S` as seconds; raises MalformedFrame naming `where`."""
    match = DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise MalformedFrame(f"AudioHook {where}: expected a duration like PT1.24S, got {text!r}")
    return Decimal(match[1])


def format_duration(seconds: Decimal) -> str:
    return f"PT{format(seconds, 'f')}S"


@dataclass(frozen=True, slots=True)
class Message:
    """One text message; `serverseq` and `position` are set on client messages only,
    `clientseq` on server messages only."""

    type: str
    id: str
    seq: int
    parameters: Mapping[str, Any] = field(default_factory=dict)
    serverseq: int | None = None
    position: Decimal | None = None
    clientseq: int | None = None

    @property
    def from_client(self) -> bool:
        return self.type in CLIENT_TYPES

    @classmethod
    def parse(cls, data: str | bytes) -> Self:
        """A message as received; raises MalformedFrame naming the field at fault."""
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise MalformedFrame("AudioHook message: not JSON") from None
        if not isinstance(document, dict):
            raise MalformedFrame("AudioHook message: not a JSON object")
        if document.get("version") != VERSION:
            raise MalformedFrame(
                f"AudioHook message: version {document.get('version')!r}, need '2'"
            )
        kind = document.get("type")
        if kind not in CLIENT_TYPES | SERVER_TYPES:
            raise MalformedFrame(f"AudioHook message: unknown type {kind!r}")
        session = document.get("id")
        if not isinstance(session, str) or not is_uuid(session):
            raise MalformedFrame(f"AudioHook {kind}: id must be a UUID string")
        parameters = document.get("parameters", {})
        if not isinstance(parameters, dict):
            raise MalformedFrame(f"AudioHook {kind}: parameters must be an object")
        seq = _counter(document, "seq", kind, minimum=1)
        if kind in CLIENT_TYPES:
            serverseq = _counter(document, "serverseq", kind, minimum=0)
            position = parse_duration(document.get("position"), f"{kind} position")
            return cls(kind, session, seq, parameters, serverseq=serverseq, position=position)
        clientseq = _counter(document, "clientseq", kind, minimum=0)
        return cls(kind, session, seq, parameters, clientseq=clientseq)

    def dumps(self) -> str:
        document: dict[str, Any] = {
            "version": VERSION,
            "id": self.id,
            "type": self.type,
            "seq": self.seq,
        }
        if self.from_client:
            document["serverseq"] = self.serverseq
            document["position"] = format_duration(self.position or Decimal(0))
        else:
            document["clientseq"] = self.clientseq
        document["parameters"] = dict(self.parameters)
        return json.dumps(document, separators=(",", ":"))

    def __bytes__(self) -> bytes:
        return self.dumps().encode("utf-8")


def _counter(document: Mapping[str, Any], name: str, kind: str, *, minimum: int) -> int:
    value = document.get(name)
    if type(value) is not int or value < minimum:
        raise MalformedFrame(f"AudioHook {kind}: {name} must be an integer >= {minimum}")
    return value


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
