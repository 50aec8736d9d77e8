"""WebSocket edges shared by the WebSocket transports (Twilio Media Streams, generic WebSocket).

Server side: refusing a handshake with an HTTP status and a readable body, receiving one
message with a size cap, closing with an RFC 6455 code and a reason that fits the close frame.
Client side: sending frames on the impairment schedule every simulated call uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from fastapi import WebSocket
from fastapi.responses import PlainTextResponse
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from voiceauth.errors import CallError
from voiceauth.transports.impair import Send

logger = logging.getLogger(__name__)

# Close codes, RFC 6455 §7.4.1 (1013 from the IANA WebSocket close code registry).
NORMAL = 1000
UNSUPPORTED_DATA = 1003
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013

CLOSE_WAIT_S = 10.0
"""How long a client waits for the server to close after the call's last message."""
MAX_REASON_BYTES = 123
"""A close frame's payload is at most 125 bytes, two of them the code (RFC 6455 §5.5)."""


@dataclass(frozen=True, slots=True)
class Closed:
    """How a socket ended: our close (code and reason) or the peer's disconnect."""

    code: int
    reason: str
    by_peer: bool = False


class Oversized(Exception):
    """A message longer than the configured cap; it is dropped and the socket closed."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message of {size} bytes exceeds the {limit}-byte limit")
        self.size = size
        self.limit = limit


class PeerGone(Exception):
    """The peer closed or dropped the connection."""

    def __init__(self, code: int) -> None:
        super().__init__(f"peer disconnected (close code {code})")
        self.code = code


def fit_reason(reason: str) -> str:
    """The reason cut to what a close frame can carry, on a character boundary."""
    data = reason.encode("utf-8")[:MAX_REASON_BYTES]
    return data.decode("utf-8", errors="ignore")


async def deny(websocket: WebSocket, status: int, message: str) -> None:
    """Refuse the handshake: an HTTP status with a plain-text body where the server supports
    the ASGI denial-response extension (uvicorn does), else close before accepting (403)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(PlainTextResponse(message, status_code=status))
    else:
        await websocket.close(POLICY_VIOLATION, fit_reason(message))


async def receive(websocket: WebSocket, max_bytes: int) -> str | bytes:
    """The next text or binary message; raises PeerGone on disconnect, Oversized past the cap."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise PeerGone(int(message.get("code", NORMAL)))
    text: str | None = message.get("text")
    data: str | bytes = text if text is not None else bytes(message.get("bytes") or b"")
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise Oversized(size, max_bytes)
    return data


async def close(websocket: WebSocket, code: int, reason: str) -> Closed:
    """Close from our side with a code and reason; a peer already gone is not an error."""
    try:
        await websocket.close(code, fit_reason(reason))
    except (RuntimeError, OSError) as error:  # the peer left first: nothing to send
        logger.debug("close after disconnect: %s", error)
    return Closed(code, reason)


def split_frames(pcm: npt.NDArray[np.int16], frame_samples: int) -> list[npt.NDArray[np.int16]]:
    """(n, ...) samples cut into frames of frame_samples, the last one padded with silence."""
    n_frames = -(-len(pcm) // frame_samples)
    padded = np.zeros((n_frames * frame_samples, *pcm.shape[1:]), np.int16)
    padded[: len(pcm)] = pcm
    return [padded[i * frame_samples : (i + 1) * frame_samples] for i in range(n_frames)]


async def paced(sends: list[Send]) -> AsyncIterator[int]:
    """Yield each frame index when the schedule says to send it (relative to the first)."""
    loop = asyncio.get_running_loop()
    origin = loop.time()
    for send in sends:
        delay = origin + send.at_s - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield send.index


@asynccontextmanager
async def client(url: str, headers: Mapping[str, str]) -> AsyncIterator[ClientConnection]:
    """A client connection (no proxy: calls go straight to the service); a refused handshake
    or a close mid-call raises CallError with the server's status or close reason."""
    try:
        async with connect(
            url, additional_headers=dict(headers), proxy=None, compression=None
        ) as connection:
            yield connection
    except InvalidStatus as error:
        response = error.response
        body = response.body.decode("utf-8", errors="replace") if response.body else ""
        raise CallError(
            f"server refused the connection: HTTP {response.status_code}: {body}"
        ) from None
    except ConnectionClosed as error:
        raise CallError(f"server closed the call: {_describe(error)}") from None


async def wait_closed(connection: ClientConnection) -> None:
    """Wait for the server to close after the last message; raise CallError unless it closes
    normally (1000), so a refused call is never reported as played."""
    async with asyncio.timeout(CLOSE_WAIT_S):
        await connection.wait_closed()
    if connection.close_code != NORMAL:
        reason = connection.close_reason or ""
        raise CallError(f"server closed the call: code {connection.close_code} {reason}".strip())


def _describe(error: ConnectionClosed) -> str:
    frame = error.rcvd
    return f"code {frame.code} {frame.reason}".strip() if frame else "no close frame"
