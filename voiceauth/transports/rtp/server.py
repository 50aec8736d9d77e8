"""The RTP edge: one UDP port per call leg, bound when the call is opened through the API.

The platform opens a call (`POST /calls`: the service `start`s it on the sink), asks for a
port (`allocate`), and points the call's media at it (the SDP answer of its SIP leg, or the
far end of an Asterisk ExternalMedia channel). A port therefore belongs to exactly one call,
and a packet can never reach another call's audio. Ports are even (RFC 3550 §11: RTCP, when
not multiplexed, goes to the odd port above, which is left unbound).

A call may also bring its agent's leg (a recording SBC forks both directions): a second port,
bound with the first or not at all, whose stream is delivered as track "agent". Each leg has
its own media (SSRC, jitter buffer, decoders), so the agent's voice never reaches the caller's
track; only the caller keys digits, the agent leg's telephone-events are dropped silently.

Each datagram is parsed and decoded at once, in the datagram callback (cheap numpy work, no
model), and the frames queue for one task per call that hands them to the sink in order, so a
slow sink never stalls the socket. A caller port with no media for `idle_timeout_s` ends its
call ("rtp idle"; an agent talking to nobody keeps nothing open). Flooding (more than
`max_packet_rate` per second beyond a burst of as many) and every malformed or unknown packet
are dropped and counted, on that port only.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import numpy.typing as npt

from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallError, CallExists, CallRejected, ConfigError, UnknownCall
from voiceauth.transports.base import CallSink, Track
from voiceauth.transports.rtp.media import DEFAULT_TAKEOVER_S, CallMedia, Received, RtpRefused
from voiceauth.transports.rtp.payload import PayloadTypes

logger = logging.getLogger(__name__)

TRANSPORT = "rtp"
END_IDLE = "rtp idle"
DEFAULT_MAX_PACKET_RATE = 1000.0
"""Packets per second a port accepts: 20 times a 20 ms stream, room for fast simulations."""
RECEIVE_BUFFER_BYTES = 1 << 20
"""Socket receive buffer per port (capped by the kernel's rmem_max): absorbs bursts."""
MAX_BACKLOG = 3000
"""Frames queued per leg for a sink that has not taken them (60 s of 20 ms frames) before
dropping."""

Item = tuple[Track, npt.NDArray[np.int16]] | str | None
"""A frame of one track, a digit, or the end of the queue."""


@dataclass(eq=False)
class _Leg:
    track: Track
    port: int
    media: CallMedia
    tokens: float
    heard_at: float
    """When the port last received media (the caller's is the idle clock)."""
    counted_at: float
    """When the flood bucket was last refilled."""
    transport: asyncio.DatagramTransport | None = None


@dataclass(eq=False)
class _Call:
    call_id: str
    legs: list[_Leg] = field(default_factory=list)
    """The caller's first."""
    queue: asyncio.Queue[Item] = field(default_factory=asyncio.Queue)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def port(self, track: Track) -> int | None:
        return next((leg.port for leg in self.legs if leg.track == track), None)


class _Port(asyncio.DatagramProtocol):
    def __init__(self, server: RtpServer, call: _Call, leg: _Leg) -> None:
        self.server = server
        self.call = call
        self.leg = leg

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.server._datagram(self.call, self.leg, data)

    def error_received(self, exc: Exception) -> None:
        logger.debug("rtp port %d: %s", self.leg.port, exc)


class RtpServer:
    """Binds, serves and releases the RTP ports of calls, delivering to `sink`."""

    def __init__(
        self,
        sink: CallSink,
        metrics: CallMetrics,
        *,
        host: str,
        port_range: tuple[int, int],
        idle_timeout_s: float = 10.0,
        payload_types: PayloadTypes | None = None,
        max_packet_rate: float = DEFAULT_MAX_PACKET_RATE,
        takeover_s: float = DEFAULT_TAKEOVER_S,
    ) -> None:
        low, high = port_range
        if not 0 < low <= high < 1 << 16:
            raise ConfigError(f"RTP port range {low}-{high} is not a range of UDP ports")
        self.sink = sink
        self.metrics = metrics
        self._lost = metrics.packets_lost.labels(transport=TRANSPORT)
        self._late = metrics.packets_late.labels(transport=TRANSPORT)
        self.host = host
        self.ports = range(low + low % 2, high + 1, 2)
        if not self.ports:
            raise ConfigError(f"RTP port range {low}-{high} holds no even port")
        self.idle_timeout_s = idle_timeout_s
        self.payload_types = payload_types or PayloadTypes()
        self.max_packet_rate = max_packet_rate
        self.takeover_s = takeover_s
        self._calls: dict[str, _Call] = {}
        self._cursor = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Take the running event loop; ports are bound per call by `allocate`."""
        self._loop = asyncio.get_running_loop()

    def port_of(self, call_id: str, track: Track = "caller") -> int | None:
        call = self._calls.get(call_id)
        return None if call is None else call.port(track)

    async def allocate(self, call_id: str, *, agent: bool = False) -> int:
        """Bind a free port to an open call, and a second one for its agent's leg if `agent`;
        return the caller's (the same ports if already bound; `port_of` names the agent's).

        Both legs are bound or neither. Raises UnknownCall if the sink has no such open call,
        CallExists if it is bound with other legs, CallRejected if too few ports are free.
        """
        loop = self._loop
        if loop is None:
            raise CallError("RTP server not started: call start() first")
        tracks: tuple[Track, ...] = ("caller", "agent") if agent else ("caller",)
        if call_id in self._calls:
            return self._bound(call_id, tracks)
        if self.sink.snapshot(call_id).ended:
            raise UnknownCall(call_id)
        call = _Call(call_id)
        try:
            for track in tracks:
                call.legs.append(await self._bind(loop, call, track))
        except CallRejected:
            self._close_ports(call)
            await asyncio.sleep(0)  # the loop closes their sockets: free again when refused
            raise
        if call_id in self._calls:  # allocated concurrently while these binds awaited
            self._close_ports(call)
            return self._bound(call_id, tracks)
        call.tasks = [
            asyncio.create_task(self._deliver(call), name=f"rtp-deliver-{call_id}"),
            asyncio.create_task(self._watch(call), name=f"rtp-idle-{call_id}"),
        ]
        self._calls[call_id] = call
        logger.info("rtp: call %s on ports %s", call_id, [leg.port for leg in call.legs])
        return call.legs[0].port

    def _bound(self, call_id: str, tracks: tuple[Track, ...]) -> int:
        call = self._calls[call_id]
        if tuple(leg.track for leg in call.legs) != tracks:
            raise CallExists(call_id)
        return call.legs[0].port

    async def _bind(self, loop: asyncio.AbstractEventLoop, call: _Call, track: Track) -> _Leg:
        """Bind the next free even port (round robin from the cursor) as `track` of `call`."""
        used = {leg.port for other in (*self._calls.values(), call) for leg in other.legs}
        for step in range(len(self.ports)):
            index = (self._cursor + step) % len(self.ports)
            if self.ports[index] in used:
                continue
            media = CallMedia(self.payload_types, takeover_s=self.takeover_s)
            now = loop.time()
            leg = _Leg(track, self.ports[index], media, self.max_packet_rate, now, now)
            try:
                leg.transport, _ = await loop.create_datagram_endpoint(
                    partial(_Port, self, call, leg), local_addr=(self.host, leg.port)
                )
            except OSError:
                continue  # taken by another process, or by a call bound while this awaited
            self._cursor = (index + 1) % len(self.ports)
            with suppress(OSError):
                sock = leg.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            return leg
        raise CallRejected(
            f"no free RTP port in {self.ports.start}-{self.ports.stop - 1} "
            f"(the {track} leg of call {call.call_id!r})"
        )

    async def release(self, call_id: str) -> None:
        """Deliver what is buffered, then unbind the call's ports; the call stays open on the
        sink (whoever opened it ends it). Releasing an unknown or released call does nothing."""
        call = self._calls.pop(call_id, None)
        if call is not None:
            await self._stop(call)

    async def close(self) -> None:
        """Release every port (calls stay open on the sink: the service drains them)."""
        for call_id in list(self._calls):
            await self.release(call_id)

    def _datagram(self, call: _Call, leg: _Leg, data: bytes) -> None:
        now = asyncio.get_running_loop().time()
        refill = (now - leg.counted_at) * self.max_packet_rate
        leg.tokens = min(self.max_packet_rate, leg.tokens + refill)
        leg.counted_at = now
        if leg.tokens < 1.0:
            self.metrics.refuse(TRANSPORT, "rtp_flood")
            return
        leg.tokens -= 1.0
        try:
            received = leg.media.receive(data, now)
        except RtpRefused as error:
            self.metrics.refuse(TRANSPORT, error.kind)
            logger.debug("rtp: call %s port %d: %s", call.call_id, leg.port, error)
            return
        leg.heard_at = now
        self._enqueue(call, leg, received)

    def _enqueue(self, call: _Call, leg: _Leg, received: Received) -> None:
        self._lost.inc(received.lost)  # per packet: counters bound once, in __init__
        self._late.inc(received.late)
        items: list[Item] = [(leg.track, pcm) for pcm in received.audio]
        if leg.track == "caller":
            items += received.digits
        for item in items:
            if call.queue.qsize() >= MAX_BACKLOG * len(call.legs):
                self.metrics.refuse(TRANSPORT, "rtp_backlog")
                continue
            call.queue.put_nowait(item)

    async def _deliver(self, call: _Call) -> None:
        """Hand queued frames and digits to the sink in order, until the end marker."""
        frames = {
            leg.track: self.metrics.frames.labels(transport=TRANSPORT, track=leg.track)
            for leg in call.legs
        }  # bound once per call, not looked up per frame
        while (item := await call.queue.get()) is not None:
            try:
                if isinstance(item, str):
                    await self.sink.dtmf(call.call_id, item)
                else:
                    track, pcm = item
                    await self.sink.audio(call.call_id, track, pcm)
                    frames[track].inc()
            except CallError as error:  # ended elsewhere (API, drain): the ports go too
                self.metrics.refuse(TRANSPORT, "closed_call")
                logger.info("rtp: call %s no longer taken (%s); releasing", call.call_id, error)
                if self._calls.get(call.call_id) is call:
                    del self._calls[call.call_id]
                self._close_ports(call)
                call.tasks[1].cancel()
                return

    async def _watch(self, call: _Call) -> None:
        """End the call once its caller's port has heard nothing for idle_timeout_s."""
        loop = asyncio.get_running_loop()
        caller = call.legs[0]
        while (left := caller.heard_at + self.idle_timeout_s - loop.time()) > 0:
            await asyncio.sleep(left)
        if self._calls.get(call.call_id) is not call:
            return
        del self._calls[call.call_id]
        logger.info("rtp: call %s idle for %.1f s; ending", call.call_id, self.idle_timeout_s)
        await self._stop(call)
        with suppress(UnknownCall):
            await self.sink.end(call.call_id, END_IDLE)

    async def _stop(self, call: _Call) -> None:
        """Flush every leg's jitter buffer to the sink, wait for delivery, close the ports."""
        self._close_ports(call)
        for leg in call.legs:
            self._enqueue(call, leg, leg.media.flush())
        call.queue.put_nowait(None)
        deliver, watch = call.tasks
        if watch is not asyncio.current_task():
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
        await deliver

    def _close_ports(self, call: _Call) -> None:
        for leg in call.legs:
            if leg.transport is not None:
                leg.transport.close()
                leg.transport = None
