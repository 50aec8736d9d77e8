"""The generic WebSocket endpoint (`/ws/calls`): one call per connection, JSON start, binary PCM.

The upgrade must carry `X-API-Key` with a key of scope `telephony` (401 without a known key,
403 without the scope), checked against the same `ApiKeys` as the REST API. A bad message
(not JSON, unknown event, bad digit, a binary frame that is not whole samples) gets an
`error` event and is dropped, up to MAX_MALFORMED; what makes the call unusable gets an
`error` event and closes the socket with an RFC 6455 code: a message over the size cap (1009),
audio or a second start before/after `start`, no start in time (1008), a call the service
will not take (1013). `stop` or a disconnect ends the call, with the reason saying which.
16 kHz audio is decimated to 8 kHz per track; µ-law is expanded to linear.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, WebSocket

from voiceauth.api.keys import ApiKeys, Scope
from voiceauth.audio.g711 import mulaw_decode
from voiceauth.audio.stream_resample import StreamResampler
from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallError, CallRejected, MalformedFrame, UnknownCall
from voiceauth.transports.base import (
    END_DISCONNECT,
    END_REFUSED,
    END_STOP,
    MAX_MALFORMED,
    SAMPLE_RATE,
    CallSink,
    CallStart,
)
from voiceauth.transports.ws import socket
from voiceauth.transports.ws.messages import (
    ServerMessage,
    WsDtmf,
    WsError,
    WsStart,
    WsStarted,
    WsStop,
    dumps,
    parse_client,
)
from voiceauth.transports.ws.socket import Closed, Oversized, PeerGone

logger = logging.getLogger(__name__)

TRANSPORT = "ws"
ROUTE = "/ws/calls"
API_KEY_HEADER = "X-API-Key"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
"""2 s of 16 kHz mono PCM per binary frame; platforms usually send 20-100 ms."""
START_TIMEOUT_S = 10.0


class _Fatal(Exception):
    def __init__(self, code: int, error: str, reason: str, kind: str | None = "ws_message"):
        super().__init__(reason)
        self.code = code
        self.error = error
        self.kind = kind


class WsCall:
    """One connection's call: its start, a resampler per track, its bad-message count."""

    def __init__(
        self,
        sink: CallSink,
        metrics: CallMetrics,
        *,
        principal: str,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        self.sink = sink
        self.metrics = metrics
        self.principal = principal
        self.start_timeout_s = start_timeout_s
        self.start: WsStart | None = None
        self.open = False
        self.malformed = 0
        self.resamplers: list[StreamResampler] = []

    async def run(self, websocket: WebSocket, max_message_bytes: int) -> Closed:
        try:
            return await self._serve(websocket, max_message_bytes)
        finally:
            await self._end(END_DISCONNECT)

    async def _serve(self, websocket: WebSocket, max_message_bytes: int) -> Closed:
        while True:
            waiting = asyncio.timeout(self.start_timeout_s) if self.start is None else nullcontext()
            try:
                async with waiting:
                    data = await socket.receive(websocket, max_message_bytes)
                if isinstance(data, bytes):
                    await self._audio(data)
                elif await self._message(websocket, data):
                    await self._end(END_STOP)
                    return await socket.close(websocket, socket.NORMAL, "call stopped")
            except PeerGone as gone:
                await self._end(END_DISCONNECT)
                return Closed(gone.code, "peer disconnected", by_peer=True)
            except MalformedFrame as error:
                self.metrics.refuse(TRANSPORT, "ws_message")
                call = self.start.call_id if self.start else None
                logger.debug("ws message dropped", extra={"call_id": call, "why": str(error)})
                self.malformed += 1
                if self.malformed > MAX_MALFORMED:
                    fatal = _Fatal(socket.POLICY_VIOLATION, "malformed", "too many bad messages")
                    return await self._fatal(websocket, fatal)
                await self._send(websocket, WsError("malformed", str(error)))
            except Oversized as error:
                fatal = _Fatal(socket.MESSAGE_TOO_BIG, "oversized", str(error), "oversized")
                return await self._fatal(websocket, fatal)
            except TimeoutError:
                reason = f"no start message within {self.start_timeout_s:g} s"
                return await self._fatal(
                    websocket, _Fatal(socket.POLICY_VIOLATION, "protocol", reason)
                )
            except _Fatal as fatal:
                return await self._fatal(websocket, fatal)

    async def _send(self, websocket: WebSocket, message: ServerMessage) -> None:
        with suppress(RuntimeError, OSError):  # the peer may be gone already
            await websocket.send_text(dumps(message))

    async def _fatal(self, websocket: WebSocket, fatal: _Fatal) -> Closed:
        if fatal.kind:
            self.metrics.refuse(TRANSPORT, fatal.kind)
        call = self.start.call_id if self.start else None
        logger.info("ws call refused", extra={"call_id": call, "why": str(fatal)})
        await self._end(END_REFUSED)
        await self._send(websocket, WsError(fatal.error, str(fatal)))
        return await socket.close(websocket, fatal.code, str(fatal))

    async def _end(self, reason: str) -> None:
        if self.open and self.start is not None:
            self.open = False
            with suppress(UnknownCall):
                for track, resampler in zip(self.start.tracks, self.resamplers, strict=True):
                    rest = resampler.flush()  # what it held back as lookahead
                    if len(rest):
                        await self.sink.audio(self.start.call_id, track, rest)
                await self.sink.end(self.start.call_id, reason)

    async def _message(self, websocket: WebSocket, text: str) -> bool:
        """Act on one text message; True on stop."""
        message = parse_client(text)
        if isinstance(message, WsStart):
            await self._begin(message)
            await self._send(websocket, WsStarted(message.call_id))
            return False
        if self.start is None:
            raise _Fatal(socket.POLICY_VIOLATION, "protocol", f"{message.event} before start")
        if isinstance(message, WsDtmf):
            with self._still_open(self.start.call_id):
                await self.sink.dtmf(self.start.call_id, message.digit)
        return isinstance(message, WsStop)

    async def _begin(self, start: WsStart) -> None:
        if self.start is not None:
            raise _Fatal(socket.POLICY_VIOLATION, "protocol", "second start on one connection")
        call = CallStart(
            call_id=start.call_id,
            transport=TRANSPORT,
            ani=start.ani,
            dnis=start.dnis,
            customer_id=start.customer_id,
            parameters={**start.parameters, "apiKey": self.principal},
        )
        try:
            await self.sink.start(call, attach=True)
        except CallRejected as error:
            self.metrics.rejected_calls.labels(transport=TRANSPORT, reason="rejected").inc()
            raise _Fatal(socket.TRY_AGAIN_LATER, "rejected", str(error), None) from error
        except CallError as error:
            raise _Fatal(socket.POLICY_VIOLATION, "rejected", str(error), None) from error
        self.start, self.open = start, True
        self.resamplers = [StreamResampler(start.sample_rate, SAMPLE_RATE) for _ in start.tracks]
        logger.info("ws call started", extra={"call_id": start.call_id})

    async def _audio(self, data: bytes) -> None:
        start = self.start
        if start is None:
            raise _Fatal(socket.POLICY_VIOLATION, "protocol", "audio before start")
        if not data or len(data) % start.frame_bytes:
            raise MalformedFrame(
                f"ws audio: {len(data)} bytes is not a whole number of "
                f"{start.frame_bytes}-byte samples ({start.encoding}, {len(start.tracks)} track(s))"
            )
        samples: npt.NDArray[np.int16] = (
            mulaw_decode(np.frombuffer(data, np.uint8))
            if start.encoding == "mulaw"
            else np.frombuffer(data, "<i2").astype(np.int16)
        )
        channels = samples.reshape(-1, len(start.tracks))
        for index, track in enumerate(start.tracks):
            pcm = self.resamplers[index].feed(np.ascontiguousarray(channels[:, index]))
            with self._still_open(start.call_id):
                await self.sink.audio(start.call_id, track, pcm)
            self.metrics.frames.labels(transport=TRANSPORT, track=track).inc()

    @contextmanager
    def _still_open(self, call_id: str) -> Iterator[None]:
        """Around a sink call: a call ended elsewhere (through the API) closes the socket."""
        try:
            yield
        except UnknownCall as error:
            self.open = False
            reason = f"call {call_id} is no longer open"
            raise _Fatal(socket.POLICY_VIOLATION, "closed_call", reason, "closed_call") from error


def ws_router(
    sink: CallSink,
    metrics: CallMetrics,
    *,
    keys: ApiKeys,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    start_timeout_s: float = START_TIMEOUT_S,
) -> APIRouter:
    """The `/ws/calls` WebSocket route, for platforms without a dedicated transport."""
    router = APIRouter()

    @router.websocket(ROUTE)
    async def ws_calls(websocket: WebSocket) -> None:
        presented = websocket.headers.get(API_KEY_HEADER)
        principal = keys.authenticate(presented) if presented else None
        if principal is None or Scope.TELEPHONY not in principal.scopes:
            status, message = (
                (401, f"missing or unknown {API_KEY_HEADER}")
                if principal is None
                else (403, "this key's scope does not allow streaming calls (needs telephony)")
            )
            metrics.refuse(TRANSPORT, "ws_auth")
            metrics.rejected_calls.labels(transport=TRANSPORT, reason="unauthenticated").inc()
            await socket.deny(websocket, status, message)
            return
        await websocket.accept()
        call = WsCall(sink, metrics, principal=principal.name, start_timeout_s=start_timeout_s)
        closed = await call.run(websocket, max_message_bytes)
        logger.info("ws call closed", extra={"code": closed.code, "why": closed.reason})

    return router
