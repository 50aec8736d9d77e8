"""The Twilio Media Streams WebSocket endpoint: signed upgrade in, caller and agent frames out.

One connection carries one stream of one call. The call id is Twilio's `callSid`, not the
`streamSid`: the Call SID is what the rest of the platform knows (status callbacks, the REST
API, the webhook that can open the call through voiceauth's API first), and it stays the same
if the stream is restarted; the stream SID is kept in the call's parameters. The `inbound`
track is the caller, `outbound` the agent (or IVR). Nothing is ever sent back to Twilio, so
nothing reaches the caller.

A bad message (not JSON, unknown event, malformed field, bad base64, wrong streamSid) is
counted and dropped and the stream goes on, up to MAX_MALFORMED; what makes the stream
unusable closes it with an RFC 6455 code and reason: an oversized message (1009), media or
stop before `start`, a second `start`, too many bad messages (1008), a media format other than
µ-law 8 kHz mono (1003), a call the service will not take (1013). `stop` or a disconnect ends
the call on the sink, with the reason saying which.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import nullcontext, suppress

import numpy as np
from fastapi import APIRouter, WebSocket
from pydantic import SecretStr

from voiceauth.audio.g711 import mulaw_decode
from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallError, CallRejected, MalformedFrame, UnknownCall
from voiceauth.transports.base import (
    END_DISCONNECT,
    END_REFUSED,
    END_STOP,
    MAX_MALFORMED,
    CallSink,
    CallStart,
    Track,
)
from voiceauth.transports.twilio.messages import (
    INBOUND,
    Connected,
    Dtmf,
    Media,
    Start,
    Stop,
    TwilioMessage,
    parse_message,
)
from voiceauth.transports.twilio.signature import (
    SIGNATURE_HEADER,
    valid_signature,
    websocket_url,
)
from voiceauth.transports.twilio.timeline import TrackClock
from voiceauth.transports.ws import socket
from voiceauth.transports.ws.socket import Closed, Oversized, PeerGone

logger = logging.getLogger(__name__)

TRANSPORT = "twilio"
ROUTE = "/twilio/media"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
"""A 20 ms media message is about 300 bytes; 64 KiB leaves room for long customParameters."""
START_TIMEOUT_S = 10.0
"""Twilio sends `start` right after `connected`; a socket without one is closed."""
ANI_KEYS = ("ani", "from")
DNIS_KEYS = ("dnis", "to")
CUSTOMER_KEYS = ("customerId", "customer_id")


def call_start(start: Start) -> CallStart:
    """The call a `start` message announces; identity comes from the TwiML parameters."""
    params = start.custom_parameters

    def first(keys: tuple[str, ...]) -> str | None:
        return next((params[key] for key in keys if params.get(key)), None)

    extras = {**params, "streamSid": start.stream_sid, "accountSid": start.account_sid}
    return CallStart(
        call_id=start.call_sid,
        transport=TRANSPORT,
        ani=first(ANI_KEYS),
        dnis=first(DNIS_KEYS),
        customer_id=first(CUSTOMER_KEYS),
        parameters=extras,
    )


class _Fatal(Exception):
    """Close the stream with this code and reason (and count it as `kind` when given)."""

    def __init__(self, code: int, reason: str, kind: str | None = "ws_message") -> None:
        super().__init__(reason)
        self.code = code
        self.kind = kind


class TwilioStream:
    """One connection's state: the stream it started, its track clocks, its bad messages."""

    def __init__(
        self, sink: CallSink, metrics: CallMetrics, *, start_timeout_s: float = START_TIMEOUT_S
    ) -> None:
        self.sink = sink
        self.metrics = metrics
        self.start_timeout_s = start_timeout_s
        self.start: Start | None = None
        self.open = False
        self.malformed = 0
        self.clocks: dict[str, TrackClock] = {}

    async def run(self, websocket: WebSocket, max_message_bytes: int) -> Closed:
        """Serve the stream until stop, disconnect or a fatal defect; the call never outlives it."""
        try:
            return await self._serve(websocket, max_message_bytes)
        finally:
            if self.open:
                await self._end(END_DISCONNECT)

    async def _serve(self, websocket: WebSocket, max_message_bytes: int) -> Closed:
        while True:
            waiting = asyncio.timeout(self.start_timeout_s) if self.start is None else nullcontext()
            try:
                async with waiting:
                    data = await socket.receive(websocket, max_message_bytes)
                message = parse_message(data)
                if await self._handle(message):
                    await self._end(END_STOP)
                    return await socket.close(websocket, socket.NORMAL, "stream stopped")
            except PeerGone as gone:
                await self._end(END_DISCONNECT)
                return Closed(gone.code, "peer disconnected", by_peer=True)
            except MalformedFrame as error:
                self.metrics.refuse(TRANSPORT, "ws_message")
                logger.debug(
                    "twilio message dropped", extra={"call_id": self._call, "why": str(error)}
                )
                self.malformed += 1
                if self.malformed > MAX_MALFORMED:
                    return await self._fatal(
                        websocket, _Fatal(socket.POLICY_VIOLATION, "too many bad messages", None)
                    )
            except Oversized as error:
                return await self._fatal(
                    websocket, _Fatal(socket.MESSAGE_TOO_BIG, str(error), "oversized")
                )
            except TimeoutError:
                reason = f"no start message within {self.start_timeout_s:g} s"
                return await self._fatal(websocket, _Fatal(socket.POLICY_VIOLATION, reason))
            except _Fatal as fatal:
                return await self._fatal(websocket, fatal)

    @property
    def _call(self) -> str | None:
        return self.start.call_sid if self.start else None

    async def _fatal(self, websocket: WebSocket, fatal: _Fatal) -> Closed:
        if fatal.kind:
            self.metrics.refuse(TRANSPORT, fatal.kind)
        logger.info("twilio stream refused", extra={"call_id": self._call, "why": str(fatal)})
        await self._end(END_REFUSED)
        return await socket.close(websocket, fatal.code, str(fatal))

    async def _end(self, reason: str) -> None:
        if self.open and self.start is not None:
            self.open = False
            with suppress(UnknownCall):  # ended elsewhere already (through the API)
                await self.sink.end(self.start.call_sid, reason)

    async def _handle(self, message: TwilioMessage) -> bool:
        """Act on one message; True when the stream stopped. Raises _Fatal or MalformedFrame."""
        if isinstance(message, Connected):
            return False
        if isinstance(message, Start):
            await self._begin(message)
            return False
        if self.start is None:
            raise _Fatal(socket.POLICY_VIOLATION, f"{message.event} before start")
        if message.stream_sid != self.start.stream_sid:
            raise MalformedFrame(f"Twilio {message.event}: streamSid is not this stream's")
        call_id = self.start.call_sid
        try:
            if isinstance(message, Media):
                await self._media(call_id, message)
            elif isinstance(message, Dtmf):
                await self.sink.dtmf(call_id, message.digit)
        except UnknownCall as error:
            self.open = False
            raise _Fatal(
                socket.POLICY_VIOLATION, f"call {call_id} is no longer open", "closed_call"
            ) from error
        return isinstance(message, Stop)

    async def _begin(self, start: Start) -> None:
        if self.start is not None:
            raise _Fatal(socket.POLICY_VIOLATION, "second start on one stream")
        if not start.media_format.is_mulaw_8k_mono:
            fmt = start.media_format
            raise _Fatal(
                socket.UNSUPPORTED_DATA,
                f"unsupported media format {fmt.encoding} {fmt.sample_rate} Hz x{fmt.channels};"
                " expected audio/x-mulaw 8000 Hz mono",
            )
        try:
            await self.sink.start(call_start(start), attach=True)
        except CallRejected as error:
            self.metrics.rejected_calls.labels(transport=TRANSPORT, reason="rejected").inc()
            raise _Fatal(socket.TRY_AGAIN_LATER, str(error), None) from error
        except CallError as error:
            raise _Fatal(socket.POLICY_VIOLATION, str(error), None) from error
        self.start, self.open = start, True
        logger.info("twilio stream started", extra={"call_id": start.call_sid})

    async def _media(self, call_id: str, media: Media) -> None:
        track: Track = "caller" if media.track == INBOUND else "agent"
        clock = self.clocks.setdefault(media.track, TrackClock())
        placement = clock.place(media.timestamp_ms, len(media.payload))
        if placement.late:
            self.metrics.packets_late.labels(transport=TRANSPORT).inc()
            return
        if placement.lost_frames:
            self.metrics.packets_lost.labels(transport=TRANSPORT).inc(placement.lost_frames)
        if placement.gap_samples:
            await self.sink.audio(call_id, track, np.zeros(placement.gap_samples, np.int16))
        pcm = mulaw_decode(np.frombuffer(media.payload, dtype=np.uint8))
        await self.sink.audio(call_id, track, pcm)
        self.metrics.frames.labels(transport=TRANSPORT, track=track).inc()


def twilio_router(
    sink: CallSink,
    metrics: CallMetrics,
    *,
    auth_token: SecretStr | None,
    public_url: str | None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    start_timeout_s: float = START_TIMEOUT_S,
) -> APIRouter:
    """The `/twilio/media` WebSocket route. Without an auth token every connection is refused:
    an unsigned stream could claim any caller."""
    router = APIRouter()

    @router.websocket(ROUTE)
    async def twilio_media(websocket: WebSocket) -> None:
        if auth_token is None:
            metrics.rejected_calls.labels(transport=TRANSPORT, reason="not_configured").inc()
            message = "Twilio Media Streams is off: set VOICEAUTH_TWILIO_AUTH_TOKEN"
            await socket.deny(websocket, 403, message)
            return
        url = websocket_url(public_url, str(websocket.url))
        signature = websocket.headers.get(SIGNATURE_HEADER)
        if not valid_signature(auth_token.get_secret_value(), url, signature):
            metrics.refuse(TRANSPORT, "ws_signature")
            metrics.rejected_calls.labels(transport=TRANSPORT, reason="signature").inc()
            logger.info("twilio upgrade refused: missing or invalid signature")
            await socket.deny(websocket, 403, f"missing or invalid {SIGNATURE_HEADER}")
            return
        await websocket.accept()
        stream = TwilioStream(sink, metrics, start_timeout_s=start_timeout_s)
        closed = await stream.run(websocket, max_message_bytes)
        logger.info("twilio stream closed", extra={"code": closed.code, "why": closed.reason})

    return router
