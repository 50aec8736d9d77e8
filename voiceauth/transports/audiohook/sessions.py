"""Which AudioHook session carries each call's audio, so a reconnecting session resumes it.

AudioHook's reconnection (protocol v2): the client opens a new session whose `open` lists the
old one in `continuedSessions`, then closes the old one with reason `reconnect`. The call is the
conversation, so the new session takes it over (the old one's audio is dropped from then on);
a session that re-opens with its own id after its connection dropped resumes it likewise. A
session that leaves without ending the call (close `reconnect`, or a dropped connection) leaves
it open for `grace_s`, then the call ends. A second session for a conversation that another
live session carries, without continuing it, is refused.

A replica that drains asks every session it carries to `reconnect` (protocol v2): the platform
opens a new session, which its load balancer sends to another replica, continuing this one.
From then on this replica refuses opens, so a continuation that lands here again is refused
and the old session keeps the call until the drain ends it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from typing import Protocol

from voiceauth.calls.snapshot import CallSnapshot
from voiceauth.errors import CallError, CallRejected, UnknownCall
from voiceauth.transports.base import CallSink, CallStart

logger = logging.getLogger(__name__)

DRAINING = "this replica is draining: continue the session on another one"
"""The `info` of the `reconnect` a draining replica sends."""


class Carrier(Protocol):
    """A session as the registry sees it."""

    session_id: str
    superseded: bool

    async def reconnect(self, info: str) -> None:
        """Ask the client to continue this session on a new one."""


class CallTaken(CallError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"conversation {call_id} is streaming on another AudioHook session")


class Sessions:
    """Call id -> the session carrying it; pending ends of calls left by their session."""

    def __init__(self, sink: CallSink, grace_s: float) -> None:
        self.sink = sink
        self.grace_s = grace_s
        self._carriers: dict[str, Carrier] = {}
        self._ending: dict[str, asyncio.Task[None]] = {}
        self.draining = False

    async def claim(self, carrier: Carrier, start: CallStart, continued: tuple[str, ...]) -> None:
        """Start (or attach to) the call for `carrier`; raises CallTaken or the sink's error."""
        if self.draining:
            raise CallRejected("the service is shutting down: open the session on another replica")
        current = self._carriers.get(start.call_id)
        if current is not None and current.session_id not in {carrier.session_id, *continued}:
            raise CallTaken(start.call_id)
        await self.sink.start(start, attach=True)
        pending = self._ending.pop(start.call_id, None)
        if pending is not None:
            pending.cancel()
        if current is not None:
            current.superseded = True
            logger.info("audiohook session taken over", extra={"call_id": start.call_id})
        self._carriers[start.call_id] = carrier

    async def move_all(self, timeout_s: float) -> None:
        """Drain: refuse opens, ask every session carrying a call to reconnect, and wait up to
        timeout_s for them to leave (uvicorn closes every WebSocket after this)."""
        self.draining = True
        asked = list(self._carriers.values())
        for carrier in asked:
            await carrier.reconnect(DRAINING)
        logger.info("audiohook sessions asked to reconnect", extra={"sessions": len(asked)})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(c in asked for c in self._carriers.values()):
            await asyncio.sleep(0.05)

    def carries(self, carrier: Carrier, call_id: str) -> bool:
        return self._carriers.get(call_id) is carrier

    async def finish(self, carrier: Carrier, call_id: str, reason: str) -> CallSnapshot | None:
        """End the call now, if `carrier` still carries it; its final snapshot."""
        if not self.carries(carrier, call_id):
            return None
        del self._carriers[call_id]
        with suppress(UnknownCall):  # ended elsewhere already (through the API)
            return await self.sink.end(call_id, reason)
        return None

    def release(self, carrier: Carrier, call_id: str, reason: str) -> None:
        """`carrier` leaves; unless another session claims the call within the grace, it ends."""
        if not self.carries(carrier, call_id):
            return
        del self._carriers[call_id]
        self._ending[call_id] = asyncio.create_task(self._end_later(call_id, reason))

    async def _end_later(self, call_id: str, reason: str) -> None:
        await asyncio.sleep(self.grace_s)
        self._ending.pop(call_id, None)
        with suppress(UnknownCall):
            await self.sink.end(call_id, reason)
        logger.info("audiohook call ended, no session resumed it", extra={"call_id": call_id})
