"""Play a recording into the service as Genesys AudioHook would (`voiceauth simulate`).

The client side of protocol version 2, as Genesys Cloud runs it: a signed upgrade (API key,
HTTP message signature with the client secret), `open` offering stereo and mono PCMU, audio
frames of 20 ms with the customer (`external`) and agent (`internal`) interleaved per sample,
`ping`, `paused`/`resumed` around a pause (the skipped audio reported as discarded), a lost
frame reported in `discarded`, then the `close` transaction, whose `closed` answer carries the
call's `outputVariables`. When the server sends `disconnect`, the client closes with reason
`disconnect`, as the protocol asks. When it sends `reconnect` (a replica draining), the client
opens a new session listing the old one in `continuedSessions`, goes on with the audio there and
closes the old one with reason `reconnect`; if the new session is refused, it stays on the old.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from decimal import Decimal
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from voiceauth.audio.g711 import mulaw_encode
from voiceauth.errors import CallError
from voiceauth.transports.audiohook.messages import Message, format_duration
from voiceauth.transports.audiohook.parameters import EXTERNAL, INTERNAL, MediaFormat
from voiceauth.transports.audiohook.sequence import Sequencer
from voiceauth.transports.audiohook.signature import (
    API_KEY_HEADER,
    CORRELATION_HEADER,
    ORGANIZATION_HEADER,
    SESSION_HEADER,
    decode_secret,
    sign_upgrade,
)
from voiceauth.transports.base import FRAME_SAMPLES, SAMPLE_RATE, CallStart
from voiceauth.transports.impair import Impairments, schedule
from voiceauth.transports.ws import socket

logger = logging.getLogger(__name__)

FRAME_S = Decimal(FRAME_SAMPLES) / SAMPLE_RATE
REPLY_TIMEOUT_S = 10.0
PING_EVERY_S = 5.0
"""The reference client pings every 5 s."""
OFFERS = (
    MediaFormat("PCMU", SAMPLE_RATE, (EXTERNAL, INTERNAL)),
    MediaFormat("PCMU", SAMPLE_RATE, (EXTERNAL,)),
)


class AudioHookSession:
    """One client session over one connection: sequencing, the media the server chose, and
    the server's messages as they arrive (pongs counted, the rest queued)."""

    def __init__(self, connection: ClientConnection, session_id: str, organization_id: str) -> None:
        self.connection = connection
        self.organization_id = organization_id
        self.sequence = Sequencer(session_id, client=True)
        self.media: MediaFormat | None = None
        self.pongs = 0
        self.disconnect: Message | None = None
        self.reconnect: Message | None = None
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        url: str,
        *,
        api_key: str,
        client_secret: str,
        session_id: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncIterator[Self]:
        """A signed connection to `url`; raises CallError if the upgrade is refused."""
        session = session_id or str(uuid.uuid4())
        organization = organization_id or str(uuid.uuid4())
        headers = {
            API_KEY_HEADER: api_key,
            ORGANIZATION_HEADER: organization,
            SESSION_HEADER: session,
            CORRELATION_HEADER: str(uuid.uuid4()),
        }
        signed = sign_upgrade(url, headers, api_key=api_key, secret=decode_secret(client_secret))
        async with socket.client(url, signed) as connection:
            client = cls(connection, session, organization)
            reader = asyncio.create_task(client._read())
            try:
                yield client
            finally:
                reader.cancel()
                with suppress(asyncio.CancelledError):
                    await reader

    async def _read(self) -> None:
        with suppress(ConnectionClosed):
            async for data in self.connection:
                message = Message.parse(data)
                self.sequence.accept(message)
                if message.type == "pong":
                    self.pongs += 1
                    continue
                if message.type == "disconnect":
                    self.disconnect = message
                elif message.type == "reconnect":
                    self.reconnect = message
                await self._inbox.put(message)

    async def send(self, kind: str, parameters: Mapping[str, Any] | None = None) -> None:
        await self.connection.send(self.sequence.message(kind, parameters).dumps())

    async def expect(self, kind: str) -> Message:
        """The next server message of `kind`; raises CallError on a disconnect or timeout."""
        try:
            async with asyncio.timeout(REPLY_TIMEOUT_S):
                while True:
                    message = await self._inbox.get()
                    if message.type == kind:
                        return message
                    if message.type == "disconnect":
                        raise CallError(f"server disconnected the session: {_describe(message)}")
        except TimeoutError:
            raise CallError(f"no {kind} from the server within {REPLY_TIMEOUT_S:g} s") from None

    async def open(self, start: CallStart, *, continued: tuple[str, ...] = ()) -> MediaFormat:
        """The open transaction for `start`'s call; returns the media the server chose."""
        participant = {
            "id": str(uuid.uuid4()),
            "ani": f"tel:{start.ani}" if start.ani else "",
            "aniName": "",
            "dnis": f"tel:{start.dnis}" if start.dnis else "",
        }
        parameters: dict[str, Any] = {
            "organizationId": self.organization_id,
            "conversationId": start.call_id,
            "participant": participant,
            "media": [offer.to_json() for offer in OFFERS],
            "language": "en-US",
            "customConfig": {**start.parameters, **_customer(start)},
        }
        if continued:
            parameters["continuedSessions"] = [
                {"id": session, "serverseq": 0, "clientseq": 0} for session in continued
            ]
        await self.send("open", parameters)
        opened = await self.expect("opened")
        (chosen,) = opened.parameters["media"]
        self.media = MediaFormat.parse(chosen)
        return self.media

    async def audio(self, caller: npt.NDArray[np.int16], agent: npt.NDArray[np.int16]) -> None:
        """One frame: equal-length 8 kHz tracks, companded and interleaved as negotiated."""
        if self.media is None:
            raise CallError("audio before the session was opened")
        tracks = {EXTERNAL: caller, INTERNAL: agent}
        codes = np.stack([mulaw_encode(tracks[name]) for name in self.media.channels], axis=1)
        await self.connection.send(codes.tobytes())
        self.sequence.samples += len(caller)

    async def discarded(self, seconds: Decimal) -> None:
        start = self.sequence.position
        self.sequence.skip(seconds)
        await self.send(
            "discarded", {"start": format_duration(start), "discarded": format_duration(seconds)}
        )

    async def resumed(self, discarded: Decimal) -> None:
        start = self.sequence.position
        self.sequence.skip(discarded)
        await self.send(
            "resumed", {"start": format_duration(start), "discarded": format_duration(discarded)}
        )

    async def close(self, reason: str = "end") -> dict[str, str]:
        """The close transaction; the `outputVariables` the server returned in `closed`."""
        await self.send("close", {"reason": reason})
        closed = await self.expect("closed")
        await socket.wait_closed(self.connection)
        return {str(k): str(v) for k, v in closed.parameters.get("outputVariables", {}).items()}


async def play_audiohook(
    pcm: npt.NDArray[np.int16],
    *,
    url: str,
    start: CallStart,
    api_key: str,
    client_secret: str,
    impairments: Impairments | None = None,
    agent: npt.NDArray[np.int16] | None = None,
    pause: tuple[float, float] | None = None,
    reconnect_to: Callable[[Message], str] | None = None,
) -> dict[str, str]:
    """Stream pcm ((n,) int16, 8 kHz: the customer) to `url` as one AudioHook session of
    conversation `start.call_id`, with `agent` (or silence) on the internal channel, paused
    for `pause` = (from_s, seconds) of the recording; returns the `outputVariables` of
    `closed`. Asked to reconnect, it continues on a new session at `reconnect_to(message)`
    (default `url`: where the platform's load balancer picks a replica). Raises CallError if
    the service refuses or disconnects the session with an error."""
    caller = socket.split_frames(pcm, FRAME_SAMPLES)
    silence = np.zeros(len(pcm), np.int16)
    agents = socket.split_frames(silence if agent is None else agent, FRAME_SAMPLES)
    paused = range(0) if pause is None else range(*(_frame(s) for s in (pause[0], sum(pause))))
    sends = schedule(len(caller), float(FRAME_S), impairments or Impairments())
    scheduled = {send.index for send in sends}
    lost = [i for i in range(len(caller)) if i not in scheduled and i not in paused]
    async with AsyncExitStack() as connections:
        session = await connections.enter_async_context(
            AudioHookSession.connect(url, api_key=api_key, client_secret=client_secret)
        )
        await session.open(start)
        playout = _Playout(session, lost, paused)
        async for index in socket.paced(sends):
            if session.disconnect is not None:
                break
            if session.reconnect is not None:
                target = url if reconnect_to is None else reconnect_to(session.reconnect)
                session.reconnect = None
                moved = await _continue(session, start, target, api_key, client_secret)
                if moved is not None:
                    await connections.enter_async_context(moved[0])
                    await session.close("reconnect")
                    session = playout.session = moved[1]
            await playout.play(index, caller[index], agents[index % len(agents)])
        if session.disconnect is None:
            await playout.finish()
        told = session.disconnect
        fields = await session.close("disconnect" if told else "end")
    if told is not None and told.parameters.get("reason") != "completed":
        raise CallError(f"server disconnected the session: {_describe(told)}")
    return fields


async def _continue(
    old: AudioHookSession, start: CallStart, url: str, api_key: str, client_secret: str
) -> tuple[AsyncExitStack, AudioHookSession] | None:
    """A new session at `url` continuing `old`, opened (with its connection to keep open), or
    None if it could not be opened: the call then stays on `old`."""
    try:
        async with AsyncExitStack() as attempt:
            new = await attempt.enter_async_context(
                AudioHookSession.connect(
                    url,
                    api_key=api_key,
                    client_secret=client_secret,
                    organization_id=old.organization_id,
                )
            )
            try:
                await new.open(start, continued=(old.sequence.session_id,))
            except CallError:
                if new.disconnect is not None:  # refused: the protocol still wants a close
                    await new.close("disconnect")
                raise
            return attempt.pop_all(), new
    except (CallError, OSError) as failed:
        logger.info("audiohook reconnect failed, staying on the old session: %s", failed)
        return None


class _Playout:
    """What a platform says besides audio: pings, the pause, frames it lost."""

    def __init__(self, session: AudioHookSession, lost: list[int], paused: range) -> None:
        self.session = session
        self.lost = lost
        self.paused = paused
        self.reported = 0
        self.pausing = False
        self.resumed = False
        self.last_ping = -PING_EVERY_S

    async def play(
        self, index: int, caller: npt.NDArray[np.int16], agent: npt.NDArray[np.int16]
    ) -> None:
        now = asyncio.get_running_loop().time()
        if now - self.last_ping >= PING_EVERY_S:
            await self.session.send("ping")
            self.last_ping = now
        if index in self.paused:
            if not self.pausing and not self.resumed:
                await self.session.send("paused")
                self.pausing = True
            return
        await self._resume_after(index)
        while self.reported < len(self.lost) and self.lost[self.reported] < index:
            await self.session.discarded(FRAME_S)
            self.reported += 1
        await self.session.audio(caller, agent)

    async def _resume_after(self, index: int) -> None:
        if self.pausing and index >= self.paused.stop:
            await self.session.resumed(FRAME_S * len(self.paused))
            self.pausing, self.resumed = False, True

    async def finish(self) -> None:
        """Report what is still owed, so the final position covers the whole recording."""
        await self._resume_after(self.paused.stop)
        for _ in self.lost[self.reported :]:
            await self.session.discarded(FRAME_S)


def _frame(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE / FRAME_SAMPLES)


def _customer(start: CallStart) -> dict[str, str]:
    return {"customerId": start.customer_id} if start.customer_id else {}


def _describe(message: Message) -> str:
    params = message.parameters
    return f"{params.get('reason', '?')}: {params.get('info', '')}".rstrip(": ")
