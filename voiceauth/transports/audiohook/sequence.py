"""AudioHook sequence numbers and stream position, for either end of a session.

Each side numbers its messages 1, 2, ... (`seq`) and echoes the last number it received from
the other (`serverseq` in client messages, `clientseq` in server ones); every message carries
the session id. A message out of order, echoing a number never sent, or of another session is
a protocol error that ends the session. The client also reports `position`, how far the audio
stream has gone: audio sent plus audio it discarded (reported in `discarded`, or in `resumed`
after a pause); the server compares it with what it received and was told was skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from voiceauth.errors import MalformedFrame
from voiceauth.transports.audiohook.messages import Message
from voiceauth.transports.base import FRAME_SAMPLES, SAMPLE_RATE

POSITION_TOLERANCE_SAMPLES = FRAME_SAMPLES
"""One 20 ms frame: a client may round the position it reports."""


class SequenceError(MalformedFrame):
    """A message out of sequence or of another session."""


class Sequencer:
    """One side's view: what it sent, what it received, how much audio went by."""

    def __init__(self, session_id: str, *, client: bool) -> None:
        self.session_id = session_id
        self.client = client
        self.sent = 0
        self.received = 0
        self.samples = 0
        self.skipped = 0

    def message(self, kind: str, parameters: Mapping[str, Any] | None = None) -> Message:
        """The next message from this side."""
        self.sent += 1
        params = dict(parameters or {})
        if self.client:
            return Message(kind, self.session_id, self.sent, params, self.received, self.position)
        return Message(kind, self.session_id, self.sent, params, clientseq=self.received)

    def accept(self, message: Message) -> None:
        """Check a message from the other side; raises SequenceError."""
        if message.from_client == self.client:
            raise SequenceError(f"AudioHook {message.type}: not a message this side receives")
        if message.id != self.session_id:
            raise SequenceError(f"AudioHook {message.type}: id is not this session's")
        if message.seq != self.received + 1:
            raise SequenceError(
                f"AudioHook {message.type}: seq {message.seq}, expected {self.received + 1}"
            )
        echoed = message.clientseq if self.client else message.serverseq
        if echoed is None or echoed > self.sent:
            raise SequenceError(
                f"AudioHook {message.type}: acknowledges seq {echoed}, only {self.sent} sent"
            )
        self.received = message.seq

    def skip(self, seconds: Decimal) -> None:
        """Audio the client discarded: the stream position moves on without it."""
        self.skipped += int(seconds * SAMPLE_RATE)

    @property
    def position(self) -> Decimal:
        """Seconds of stream (per channel) so far, sent or discarded."""
        return Decimal(self.samples + self.skipped) / SAMPLE_RATE

    def position_matches(self, message: Message) -> bool:
        """Whether a client message's position agrees with the audio received (server side)."""
        if message.position is None:
            return False
        reported = message.position * SAMPLE_RATE
        return abs(reported - self.samples - self.skipped) <= POSITION_TOLERANCE_SAMPLES
