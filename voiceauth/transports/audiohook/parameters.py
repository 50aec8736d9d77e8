"""The parameters voiceauth reads from AudioHook messages, and the media it negotiates.

`open` names the conversation, the customer participant (ANI, DNIS), the offered media and,
for Audio Connector integrations, `customConfig` / `inputVariables`. Media: PCMU at 8 kHz,
channel `external` (the customer) and `internal` (the agent or IVR); voiceauth takes the
stereo offer when there is one, else the mono external one, else refuses the session. In a
stereo binary frame the channels' samples are interleaved in the offer's channel order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from voiceauth.audio.g711 import mulaw_decode
from voiceauth.errors import MalformedFrame
from voiceauth.transports.audiohook.messages import parse_duration
from voiceauth.transports.base import SAMPLE_RATE, CallStart, Track

TRANSPORT = "audiohook"
EXTERNAL = "external"
INTERNAL = "internal"
TRACKS: dict[str, Track] = {EXTERNAL: "caller", INTERNAL: "agent"}
CLOSE_REASONS = frozenset({"end", "error", "disconnect", "reconnect"})
CUSTOMER_KEYS = ("customerId", "customer_id")
TEL_PREFIX = "tel:"
"""Genesys writes participant numbers as `tel:+E164`."""


@dataclass(frozen=True, slots=True)
class MediaFormat:
    """One offered (or chosen) media format."""

    format: str
    rate: int
    channels: tuple[str, ...]
    type: str = "audio"

    @classmethod
    def parse(cls, offer: object) -> Self:
        if not isinstance(offer, dict):
            raise MalformedFrame("AudioHook open: a media offer must be an object")
        channels = offer.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise MalformedFrame("AudioHook open: media channels must be a list of names")
        kind, fmt, rate = offer.get("type"), offer.get("format"), offer.get("rate")
        if not isinstance(kind, str) or not isinstance(fmt, str) or type(rate) is not int:
            raise MalformedFrame("AudioHook open: media needs type, format and an integer rate")
        return cls(fmt, rate, tuple(channels), kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "format": self.format,
            "channels": list(self.channels),
            "rate": self.rate,
        }

    @property
    def usable(self) -> bool:
        """PCMU 8 kHz with distinct known channels, the customer's among them."""
        known = set(self.channels) <= set(TRACKS) and len(set(self.channels)) == len(self.channels)
        return (
            (self.type, self.format, self.rate) == ("audio", "PCMU", SAMPLE_RATE)
            and known
            and EXTERNAL in self.channels
        )

    def split(self, data: bytes) -> dict[Track, npt.NDArray[np.int16]]:
        """A binary frame's PCMU samples, de-interleaved and decoded, by track."""
        width = len(self.channels)
        if len(data) % width:
            raise MalformedFrame(
                f"AudioHook audio: {len(data)} bytes is not whole {width}-channel samples"
            )
        codes = np.frombuffer(data, np.uint8).reshape(-1, width)
        return {TRACKS[name]: mulaw_decode(codes[:, i]) for i, name in enumerate(self.channels)}


def choose_media(offers: tuple[MediaFormat, ...]) -> MediaFormat | None:
    """The stereo (external + internal) offer when there is one, else mono external."""
    usable = [offer for offer in offers if offer.usable]
    usable.sort(key=lambda offer: -len(offer.channels))
    return usable[0] if usable else None


@dataclass(frozen=True, slots=True)
class OpenParameters:
    organization_id: str
    conversation_id: str
    media: tuple[MediaFormat, ...]
    ani: str | None = None
    dnis: str | None = None
    participant_id: str | None = None
    language: str | None = None
    custom_config: Mapping[str, Any] = field(default_factory=dict)
    input_variables: Mapping[str, Any] = field(default_factory=dict)
    continued_sessions: tuple[str, ...] = ()

    @classmethod
    def parse(cls, parameters: Mapping[str, Any]) -> Self:
        organization, conversation = (
            parameters.get("organizationId"),
            parameters.get("conversationId"),
        )
        if (
            not isinstance(organization, str)
            or not isinstance(conversation, str)
            or not conversation
        ):
            raise MalformedFrame("AudioHook open: organizationId and conversationId are required")
        offers = parameters.get("media")
        if not isinstance(offers, list):
            raise MalformedFrame("AudioHook open: media must be a list of offers")
        participant = parameters.get("participant") or {}
        custom, variables = (
            parameters.get("customConfig") or {},
            parameters.get("inputVariables") or {},
        )
        if not all(isinstance(o, dict) for o in (participant, custom, variables)):
            raise MalformedFrame(
                "AudioHook open: participant, customConfig, inputVariables must be objects"
            )
        continued = parameters.get("continuedSessions") or []
        if not isinstance(continued, list) or not all(
            isinstance(s, dict) and isinstance(s.get("id"), str) for s in continued
        ):
            raise MalformedFrame("AudioHook open: continuedSessions must be a list of {id, ...}")
        language = parameters.get("language")
        return cls(
            organization_id=organization,
            conversation_id=conversation,
            media=tuple(MediaFormat.parse(offer) for offer in offers),
            ani=_number(participant.get("ani")),
            dnis=_number(participant.get("dnis")),
            participant_id=_text(participant.get("id")),
            language=_text(language),
            custom_config=custom,
            input_variables=variables,
            continued_sessions=tuple(session["id"] for session in continued),
        )

    def call_start(self, session_id: str) -> CallStart:
        """The call: the conversation id is its id (what Architect flows and the Genesys APIs
        know, and what stays the same when a session reconnects); the session id is kept."""
        sources = (self.input_variables, self.custom_config)  # the flow's variables first
        found = (str(src[key]) for src in sources for key in CUSTOMER_KEYS if src.get(key))
        customer = next(found, None)
        extras = {"audiohookSessionId": session_id, "organizationId": self.organization_id}
        if self.participant_id:
            extras["participantId"] = self.participant_id
        if self.language:
            extras["language"] = self.language
        return CallStart(
            call_id=self.conversation_id,
            transport=TRANSPORT,
            ani=self.ani,
            dnis=self.dnis,
            customer_id=customer,
            parameters=extras,
        )


def close_reason(parameters: Mapping[str, Any]) -> str:
    reason = parameters.get("reason")
    if reason not in CLOSE_REASONS:
        raise MalformedFrame(
            f"AudioHook close: reason {reason!r} is not one of end, error, disconnect, reconnect"
        )
    return str(reason)


def discarded_seconds(parameters: Mapping[str, Any]) -> Decimal:
    """How much audio the client dropped (a `discarded` message, or a `resumed` after a pause)."""
    return parse_duration(parameters.get("discarded", "PT0S"), "discarded duration")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> str | None:
    text = _text(value)
    return text.removeprefix(TEL_PREFIX) if text else None
