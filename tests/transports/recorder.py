"""A CallSink that records what a transport delivered, for testing transports on their own.

It is the transport's side of the interface only (no voices are judged); end-to-end tests of
calls use the real call service instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.errors import CallExists, UnknownCall
from voiceauth.transports.base import CallStart, Track


@dataclass
class RecordedCall:
    start: CallStart
    audio: dict[str, list[npt.NDArray[np.int16]]] = field(
        default_factory=lambda: {"caller": [], "agent": []}
    )
    digits: str = ""
    end_reason: str | None = None

    def pcm(self, track: Track = "caller") -> npt.NDArray[np.int16]:
        chunks = self.audio[track]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


class RecordingSink:
    """Keeps every call's start, frames, digits and end; `ended` wakes waiters."""

    def __init__(self) -> None:
        self.calls: dict[str, RecordedCall] = {}
        self.open: set[str] = set()
        self.ended = asyncio.Event()

    async def start(self, start: CallStart, *, attach: bool = False) -> None:
        if start.call_id in self.open:
            if attach:
                return
            raise CallExists(start.call_id)
        self.calls[start.call_id] = RecordedCall(start)
        self.open.add(start.call_id)

    def _call(self, call_id: str) -> RecordedCall:
        if call_id not in self.open:
            raise UnknownCall(call_id)
        return self.calls[call_id]

    async def audio(self, call_id: str, track: Track, pcm: npt.NDArray[np.int16]) -> None:
        assert pcm.dtype == np.int16 and pcm.ndim == 1
        self._call(call_id).audio[track].append(pcm.copy())

    async def dtmf(self, call_id: str, digit: str) -> None:
        self._call(call_id).digits += digit

    async def end(self, call_id: str, reason: str) -> CallSnapshot:
        call = self._call(call_id)
        self.open.discard(call_id)
        call.end_reason = reason
        self.ended.set()
        return self.snapshot(call_id)

    def snapshot(self, call_id: str) -> CallSnapshot:
        if call_id not in self.calls:
            raise UnknownCall(call_id)
        call = self.calls[call_id]
        return CallSnapshot(
            call_id=call_id,
            transport=call.start.transport,
            voice_state=VoiceState.COLLECTING,
            ani=call.start.ani,
            customer_id=call.start.customer_id,
            audio_s=len(call.pcm()) / 8000,
            dtmf=call.digits,
            ended=call.end_reason is not None,
            end_reason=call.end_reason,
        )
