"""The `Notifier` protocol: how a one-time code reaches the customer (SMS, e-mail).

A notifier delivers one `Message` or raises `NotifierError`; it never logs the text (it holds
the code), and `Message`'s repr leaves the text out so it cannot reach a traceback either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from voiceauth.errors import VoiceauthError

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")


class NotifierError(VoiceauthError):
    """A message could not be delivered; names the notifier and the failure, never the text."""


@dataclass(frozen=True, slots=True)
class Message:
    channel: Channel
    to: str
    subject: str
    text: str = field(repr=False)


class Notifier(Protocol):
    """Delivers messages over one channel."""

    @property
    def channel(self) -> Channel: ...

    async def send(self, message: Message) -> None:
        """Deliver `message` or raise NotifierError."""
        ...
