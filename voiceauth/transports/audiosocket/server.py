"""The AudioSocket TCP server: Asterisk connects once per call and streams the caller's audio.

The dialplan (`AudioSocket(UUID,host:port)` or `Dial(AudioSocket/host:port/UUID)`) names the
call by a UUID, usually after registering the call through voiceauth's REST API with that same
UUID (a `CURL()` to `/calls`), so the call is started with `attach=True`. The UUID frame must
come first; the audio is the channel's read side, the caller. Rates above 8 kHz are resampled
to 8 kHz with the filter context kept across frames. Hang-up, an Asterisk error frame or EOF
ends the call.

A frame that breaks the stream (a length over the cap, audio before the UUID, a second call id)
closes the connection after a hang-up frame; a bad frame that is self-delimited (unknown kind,
bad DTMF, odd-length audio) is counted and dropped, up to MAX_MALFORMED. Every refusal is
counted under transport "audiosocket"; nothing one connection sends reaches another call.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from voiceauth.audio.stream_resample import StreamResampler
from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallError, CallRejected, MalformedFrame, UnknownCall
from voiceauth.transports.audiosocket.frames import (
    DEFAULT_MAX_PAYLOAD,
    Frame,
    FrameReader,
    Kind,
)
from voiceauth.transports.base import (
    END_DISCONNECT,
    END_REFUSED,
    MAX_MALFORMED,
    SAMPLE_RATE,
    CallSink,
    CallStart,
)

logger = logging.getLogger(__name__)

TRANSPORT = "audiosocket"
READ_BYTES = 65536
UUID_TIMEOUT_S = 10.0
"""Asterisk sends the UUID right after connecting; a silent connection is closed."""
IDLE_TIMEOUT_S = 60.0
"""Asterisk sends audio every 20 ms while the call lives; a minute of nothing is a dead peer."""
END_HANGUP = "hangup"
END_ERROR = "asterisk_error"
END_SHUTDOWN = "shutdown"


class _Fatal(Exception):
    """Close the connection (after a hang-up frame), counting it as `kind` when given."""

    def __init__(self, reason: str, kind: str | None = TRANSPORT) -> None:
        super().__init__(reason)
        self.kind = kind


class _Connection:
    """One Asterisk channel: its call id, resampler for the rate it sends, bad-frame count."""

    def __init__(self, sink: CallSink, metrics: CallMetrics, uuid_timeout_s: float) -> None:
        self.sink = sink
        self.metrics = metrics
        self.uuid_timeout_s = uuid_timeout_s
        self.call_id: str | None = None
        self.open = False
        self.malformed = 0
        self.resampler: StreamResampler | None = None
        self.rate = SAMPLE_RATE

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_payload: int
    ) -> str:
        """Read frames until the call ends; returns the end reason."""
        frames = FrameReader(max_payload)
        while True:
            timeout = self.uuid_timeout_s if self.call_id is None else IDLE_TIMEOUT_S
            try:
                async with asyncio.timeout(timeout):
                    data = await reader.read(READ_BYTES)
            except TimeoutError:
                raise _Fatal(f"no frame within {timeout:g} s") from None
            if not data:
                if frames.pending:
                    self.refuse(MalformedFrame("AudioSocket stream ended mid-frame"))
                return END_DISCONNECT
            frames.feed(data)
            try:
                for raw in frames:
                    reason = await self._frame(raw)
                    if reason:
                        return reason
            except MalformedFrame as error:  # _frame counts its own; this is the stream's
                raise _Fatal(str(error), "oversized") from error

    async def _frame(self, raw: bytes) -> str | None:
        try:
            frame = Frame.parse(raw)
        except MalformedFrame as error:
            self.refuse(error)
            self.malformed += 1
            if self.malformed > MAX_MALFORMED:
                raise _Fatal("too many bad frames", None) from error
            return None
        if frame.kind is Kind.UUID:
            await self._begin(frame.call_id)
            return None
        if frame.kind is Kind.HANGUP:
            return END_HANGUP
        if frame.kind is Kind.ERROR:
            logger.info("asterisk error", extra={"call_id": self.call_id, "code": frame.error_code})
            return END_ERROR
        if self.call_id is None:
            raise _Fatal(f"{frame.kind.name} frame before the call's UUID")
        try:
            if frame.kind is Kind.DTMF:
                await self.sink.dtmf(self.call_id, frame.payload.decode("ascii"))
            else:
                await self._audio(self.call_id, frame)
        except UnknownCall as error:
            self.open = False
            raise _Fatal(f"call {self.call_id} is no longer open", "closed_call") from error
        return None

    async def _begin(self, call_id: str) -> None:
        if self.call_id is not None:
            if call_id == self.call_id:
                return
            raise _Fatal("a second call id on one connection")
        start = CallStart(call_id=call_id, transport=TRANSPORT)
        try:
            await self.sink.start(start, attach=True)
        except CallRejected as error:
            self.metrics.rejected_calls.labels(transport=TRANSPORT, reason="rejected").inc()
            raise _Fatal(str(error), None) from error
        except CallError as error:
            raise _Fatal(str(error), None) from error
        self.call_id, self.open = call_id, True
        logger.info("audiosocket call started", extra={"call_id": call_id})

    async def _audio(self, call_id: str, frame: Frame) -> None:
        rate = frame.rate or SAMPLE_RATE
        if rate != self.rate:  # a channel may change codec mid-call (rare): restart the filter
            await self._flush()
            self.rate = rate
            self.resampler = None if rate == SAMPLE_RATE else StreamResampler(rate, SAMPLE_RATE)
        pcm = frame.pcm if self.resampler is None else self.resampler.feed(frame.pcm)
        if len(pcm):
            await self.sink.audio(call_id, "caller", pcm)
        self.metrics.frames.labels(transport=TRANSPORT, track="caller").inc()

    async def _flush(self) -> None:
        """Hand over what the resampler held back as lookahead (at a rate change or the end)."""
        if self.resampler is not None and self.call_id is not None:
            rest = self.resampler.flush()
            if len(rest):
                await self.sink.audio(self.call_id, "caller", rest)

    def refuse(self, error: Exception, kind: str = TRANSPORT) -> None:
        self.metrics.refuse(TRANSPORT, kind)
        logger.info("audiosocket refused input", extra={"call_id": self.call_id, "why": str(error)})

    async def end(self, reason: str) -> None:
        if self.open and self.call_id is not None:
            with suppress(UnknownCall):  # ended elsewhere already (through the API)
                await self._flush()
                self.open = False
                await self.sink.end(self.call_id, reason)


class AudioSocketServer:
    """Listens for Asterisk; one task per connection, all ended by `close`."""

    def __init__(
        self,
        sink: CallSink,
        metrics: CallMetrics,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        uuid_timeout_s: float = UUID_TIMEOUT_S,
    ) -> None:
        self.sink = sink
        self.uuid_timeout_s = uuid_timeout_s
        self.metrics = metrics
        self.host = host
        self._port = port
        self.max_payload = max_payload
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info("audiosocket listening", extra={"host": self.host, "port": self._port})

    @property
    def port(self) -> int:
        """The bound port (the ephemeral one chosen when constructed with 0, once started)."""
        return self._port

    async def close(self) -> None:
        """Stop listening, end every open call (reason "shutdown") and close its connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # start_server runs each client in its own task
        self._connections.add(task)
        connection = _Connection(self.sink, self.metrics, self.uuid_timeout_s)
        try:
            reason = await connection.serve(reader, writer, self.max_payload)
            await connection.end(reason)
        except _Fatal as fatal:
            if fatal.kind:
                connection.refuse(fatal, fatal.kind)
            await connection.end(END_REFUSED)
            await _send(writer, Frame.hangup())
        except asyncio.CancelledError:
            await connection.end(END_SHUTDOWN)
            await _send(writer, Frame.hangup())
        except (ConnectionError, OSError) as error:
            logger.info("audiosocket connection lost", extra={"why": str(error)})
            await connection.end(END_DISCONNECT)
        finally:
            self._connections.discard(task)
            writer.close()
            with suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def _send(writer: asyncio.StreamWriter, frame: Frame) -> None:
    """Tell Asterisk to hang up; a peer already gone is not an error."""
    with suppress(ConnectionError, OSError):
        writer.write(bytes(frame))
        await writer.drain()
