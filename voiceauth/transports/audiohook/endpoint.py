"""The AudioHook WebSocket endpoint (protocol version 2): authenticated upgrade, open/opened
media negotiation, PCMU audio by track, and the call's result in `closed`.

One connection is one AudioHook session. The call id is the Genesys `conversationId` (see
parameters.py); the customer channel (`external`) is the caller track, `internal` the agent's.
`close` ends the call and `closed` carries `outputVariables`, the snapshot's platform fields
(state, verified, fraud suspected: never a score), for the Architect flow.

Defects follow the protocol: the server sends `disconnect` (reason `error`, `info` saying what
was wrong), ends the call, waits up to `close_timeout_s` for the client's `close`, answers
`closed` and closes the socket. Fatal: text that is not a valid v2 client message, a sequence
or session id error, an open without usable media or for another organisation, audio before
`opened`, an oversized message. Counted and dropped, the session goes on: a binary frame that
is not whole samples, audio while paused, a position that disagrees with the audio received.
A call ended through the API meanwhile gets `disconnect` reason `completed`.

Draining (SIGTERM), the replica sends `reconnect` on every session before uvicorn closes the
sockets (sessions.py): a session that then closes with reason `reconnect` has moved its call
to another replica, so the call ends here at once, as "moved".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext, suppress
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import SecretStr

from voiceauth.api.keys import ApiKeys
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.snapshot import CallSnapshot
from voiceauth.errors import CallError, CallRejected, MalformedFrame, UnknownCall
from voiceauth.transports.audiohook.auth import Refusal, Upgrade, authenticate
from voiceauth.transports.audiohook.messages import Message
from voiceauth.transports.audiohook.parameters import (
    TRANSPORT,
    MediaFormat,
    OpenParameters,
    choose_media,
    close_reason,
    discarded_seconds,
)
from voiceauth.transports.audiohook.sequence import SequenceError, Sequencer
from voiceauth.transports.audiohook.sessions import CallTaken, Sessions
from voiceauth.transports.audiohook.signature import MAX_AGE_S, NonceCache, decode_secret
from voiceauth.transports.base import FRAME_SAMPLES, SAMPLE_RATE, CallSink
from voiceauth.transports.ws import socket
from voiceauth.transports.ws.socket import Closed, Oversized, PeerGone

logger = logging.getLogger(__name__)

ROUTE = "/audiohook/ws"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
"""The reference implementation's cap on text; a 20 ms stereo PCMU frame is 320 bytes."""
OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
"""How long a client told to disconnect has to send `close`."""
RECONNECT_GRACE_S = 5.0
NONCE_TTL_S = MAX_AGE_S + 10
"""A signature's lifetime plus clock skew on both sides."""
END_MOVED = "moved"
END_REASONS = {
    "end": "close",
    "error": "client_error",
    "disconnect": "client_disconnect",
    "reconnect": END_MOVED,
}
END_DROPPED = "disconnect"
END_REFUSED = "refused"


class _Fatal(Exception):
    """Disconnect the session with `info`, counting it as `kind` when given."""

    def __init__(self, info: str, kind: str | None = "ws_message", reason: str = "error") -> None:
        super().__init__(info)
        self.kind = kind
        self.reason = reason


class AudioHookStream:
    """One session: its sequencing, negotiated media, call and state."""

    def __init__(
        self,
        sink: CallSink,
        metrics: CallMetrics,
        sessions: Sessions,
        upgrade: Upgrade,
        *,
        max_message_bytes: int,
        open_timeout_s: float,
        close_timeout_s: float,
    ) -> None:
        self.sink = sink
        self.metrics = metrics
        self.sessions = sessions
        self.upgrade = upgrade
        self.session_id = upgrade.session_id
        self.sequence = Sequencer(upgrade.session_id, client=False)
        self.max_message_bytes = max_message_bytes
        self.open_timeout_s = open_timeout_s
        self.close_timeout_s = close_timeout_s
        self.call_id: str | None = None
        self.media: MediaFormat | None = None
        self.state = "connected"  # opened, paused, disconnecting
        self.superseded = False
        self.moving = False
        self.final: CallSnapshot | None = None
        self.websocket: WebSocket | None = None
        self._sending = asyncio.Lock()

    async def run(self, websocket: WebSocket) -> Closed:
        self.websocket = websocket
        try:
            return await self._serve(websocket)
        finally:
            if self.call_id is not None:  # left without a close: resumable for a while
                self.sessions.release(self, self.call_id, END_DROPPED)

    async def _serve(self, websocket: WebSocket) -> Closed:
        while True:
            waiting = {"connected": self.open_timeout_s, "disconnecting": self.close_timeout_s}
            limit = waiting.get(self.state)
            try:
                async with asyncio.timeout(limit) if limit else nullcontext():
                    data = await socket.receive(websocket, self.max_message_bytes)
                if isinstance(data, bytes):
                    await self._audio(data)
                elif await self._text(websocket, data):
                    return await socket.close(websocket, socket.NORMAL, "session closed")
            except PeerGone as gone:
                return Closed(gone.code, "peer disconnected", by_peer=True)
            except TimeoutError:
                if self.state == "disconnecting":
                    reason = "no close after disconnect"
                    return await socket.close(websocket, socket.POLICY_VIOLATION, reason)
                await self._disconnect(websocket, _Fatal(f"no open within {limit:g} s"))
            except Oversized as error:
                await self._disconnect(websocket, _Fatal(str(error), "oversized"))
            except _Fatal as fatal:
                await self._disconnect(websocket, fatal)

    async def _text(self, websocket: WebSocket, data: str) -> bool:
        """Act on one text message; True once the session is closed."""
        try:
            message = Message.parse(data)
        except MalformedFrame as error:
            raise _Fatal(str(error)) from error
        if self.state == "disconnecting":  # only close matters now, however it is numbered
            if message.type != "close":
                return False
            self.sequence.received = message.seq
            await self._close(websocket, message)
            return True
        try:
            self.sequence.accept(message)
        except SequenceError as error:
            raise _Fatal(str(error), "audiohook_sequence") from error
        if message.type == "close":
            self._check_position(message)
            await self._close(websocket, message)
            return True
        await self._dispatch(websocket, message)
        self._check_position(message)  # after a discarded or resumed moved the stream on
        return False

    async def _dispatch(self, websocket: WebSocket, message: Message) -> None:
        if message.type == "open":
            await self._open(websocket, message)
        elif message.type == "ping":
            await self._send(websocket, "pong")
        elif message.type == "paused" and self.state == "opened":
            self.state = "paused"
        elif message.type == "resumed" and self.state == "paused":
            self.state = "opened"
            self.sequence.skip(self._discarded(message))
        elif message.type == "discarded":
            seconds = self._discarded(message)
            self.sequence.skip(seconds)
            lost = seconds * SAMPLE_RATE / FRAME_SAMPLES
            self.metrics.packets_lost.labels(transport=TRANSPORT).inc(float(lost))
        elif message.type in ("error", "update"):  # a client's complaint; a language change
            keys = sorted(message.parameters)
            logger.info(f"audiohook {message.type}", extra={"call_id": self.call_id, "keys": keys})

    def _check_position(self, message: Message) -> None:
        if not self.sequence.position_matches(message):
            why = f"position {message.position} s, stream at {self.sequence.position} s"
            self._refuse("audiohook_position", why)

    def _discarded(self, message: Message) -> Decimal:
        try:
            return discarded_seconds(message.parameters)
        except MalformedFrame as error:
            raise _Fatal(str(error)) from error

    async def _open(self, websocket: WebSocket, message: Message) -> None:
        if self.state != "connected":
            raise _Fatal("a second open in one session")
        try:
            params = OpenParameters.parse(message.parameters)
        except MalformedFrame as error:
            raise _Fatal(str(error)) from error
        if params.organization_id != self.upgrade.organization_id:
            info = "organizationId differs from the signed Audiohook-Organization-Id"
            raise _Fatal(info, "ws_signature", "unauthorized")
        media = choose_media(params.media)
        if media is None:
            raise _Fatal(
                "no usable media: need PCMU 8000 Hz with channel external", "audiohook_media"
            )
        try:
            await self.sessions.claim(
                self, params.call_start(self.session_id), params.continued_sessions
            )
        except CallTaken as error:
            raise _Fatal(str(error), "audiohook_conflict") from error
        except CallRejected as error:
            self.metrics.rejected_calls.labels(transport=TRANSPORT, reason="rejected").inc()
            raise _Fatal(str(error), None) from error
        except CallError as error:
            raise _Fatal(str(error), None) from error
        self.call_id, self.media, self.state = params.conversation_id, media, "opened"
        await self._send(websocket, "opened", {"media": [media.to_json()], "startPaused": False})
        logger.info(
            "audiohook session opened", extra={"call_id": self.call_id, "session": self.session_id}
        )

    async def _audio(self, data: bytes) -> None:
        if self.state == "connected":
            raise _Fatal("audio before the session was opened")
        if self.state == "paused":
            self._refuse("audiohook_paused", "audio while paused")
            return
        if self.state != "opened" or self.superseded or self.media is None or self.call_id is None:
            return  # disconnecting, or a newer session carries the call
        try:
            tracks = self.media.split(data)
        except MalformedFrame as error:
            self._refuse("ws_message", str(error))
            return
        try:
            for track, pcm in tracks.items():
                await self.sink.audio(self.call_id, track, pcm)
                self.metrics.frames.labels(transport=TRANSPORT, track=track).inc()
        except UnknownCall as error:
            raise _Fatal(
                f"call {self.call_id} is no longer open", "closed_call", "completed"
            ) from error
        self.sequence.samples += len(data) // len(self.media.channels)

    async def _close(self, websocket: WebSocket, message: Message) -> None:
        try:
            reason = close_reason(message.parameters)
        except MalformedFrame as error:
            self._refuse("ws_message", str(error))
            reason = "end"
        snapshot = self.final
        if self.call_id is not None and self.state != "disconnecting":
            if reason == "reconnect" and not self.moving:
                self.sessions.release(self, self.call_id, END_DROPPED)
            else:
                snapshot = await self.sessions.finish(self, self.call_id, END_REASONS[reason])
        if snapshot is None and self.call_id is not None:
            with suppress(UnknownCall):
                snapshot = self.sink.snapshot(self.call_id)
        self.state = "closed"
        fields = {"outputVariables": snapshot.platform_fields()} if snapshot else {}
        await self._send(websocket, "closed", fields)
        logger.info("audiohook session closed", extra={"call_id": self.call_id, "reason": reason})

    async def _disconnect(self, websocket: WebSocket, fatal: _Fatal) -> None:
        """Tell the client to close (the protocol's way to end a session from the server)."""
        if fatal.kind:
            self._refuse(fatal.kind, str(fatal))
        if self.state == "disconnecting":
            return
        if self.call_id is not None:
            reason = END_REFUSED if fatal.reason != "completed" else "completed"
            self.final = await self.sessions.finish(self, self.call_id, reason)
        self.state = "disconnecting"
        await self._send(websocket, "disconnect", {"reason": fatal.reason, "info": str(fatal)})

    async def reconnect(self, info: str) -> None:
        """Ask the client to move this session to a new one (reconnect has only `info`)."""
        if self.websocket is not None and self.state in ("opened", "paused"):
            self.moving = True
            await self._send(self.websocket, "reconnect", {"info": info})

    async def _send(
        self, websocket: WebSocket, kind: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        """Send in sequence order: `reconnect` comes from the drain, not the session's task."""
        async with self._sending:
            with suppress(RuntimeError, OSError):  # the peer left first: nothing to send
                await websocket.send_text(self.sequence.message(kind, parameters).dumps())

    def _refuse(self, kind: str, why: str) -> None:
        self.metrics.refuse(TRANSPORT, kind)
        logger.info("audiohook refused input", extra={"call_id": self.call_id, "why": why})


def audiohook_router(
    sink: CallSink,
    metrics: CallMetrics,
    *,
    keys: ApiKeys,
    client_secret: SecretStr | None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    open_timeout_s: float = OPEN_TIMEOUT_S,
    close_timeout_s: float = CLOSE_TIMEOUT_S,
    reconnect_grace_s: float = RECONNECT_GRACE_S,
    drains: list[Callable[[float], Awaitable[None]]] | None = None,
) -> APIRouter:
    """The `/audiohook/ws` WebSocket route. Without a client secret every upgrade is refused:
    AudioHook integrations sign their requests, and an unsigned stream could claim any call.
    `drains` gets the hook that moves every session away when the server drains."""
    secret = decode_secret(client_secret.get_secret_value()) if client_secret else None
    sessions = Sessions(sink, reconnect_grace_s)
    if drains is not None:
        drains.append(sessions.move_all)
    nonces = NonceCache(NONCE_TTL_S)
    router = APIRouter()

    @router.websocket(ROUTE)
    async def audiohook(websocket: WebSocket) -> None:
        if secret is None:
            metrics.rejected_calls.labels(transport=TRANSPORT, reason="not_configured").inc()
            await socket.deny(
                websocket, 403, "AudioHook is off: set VOICEAUTH_AUDIOHOOK_CLIENT_SECRET"
            )
            return
        headers = {name.lower(): value for name, value in websocket.headers.items()}
        found = authenticate(
            str(websocket.url), headers, keys=keys, secret=secret, nonces=nonces, now=time.time()
        )
        if isinstance(found, Refusal):
            metrics.refuse(TRANSPORT, found.kind)
            metrics.rejected_calls.labels(transport=TRANSPORT, reason="unauthorized").inc()
            logger.info(
                "audiohook upgrade refused", extra={"status": found.status, "why": found.message}
            )
            await socket.deny(websocket, found.status, found.message)
            return
        await websocket.accept()
        stream = AudioHookStream(
            sink,
            metrics,
            sessions,
            found,
            max_message_bytes=max_message_bytes,
            open_timeout_s=open_timeout_s,
            close_timeout_s=close_timeout_s,
        )
        closed = await stream.run(websocket)
        logger.info(
            "audiohook connection closed", extra={"code": closed.code, "why": closed.reason}
        )

    return router
