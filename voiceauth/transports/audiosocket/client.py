"""Play a recording into the service as Asterisk's AudioSocket would (`voiceauth simulate`).

Frame order as Asterisk sends it: the call's UUID, one audio frame per 20 ms of the channel's
read side (kind 0x10 at 8 kHz, 0x11-0x18 at higher rates), a DTMF frame per digit, then a
hang-up frame before closing. Impairments go through `impair.schedule`: over TCP a lost frame is
never sent and a reordered or duplicated one arrives out of place, as a broken bridge would.
A hang-up or error frame from the service stops the call and raises CallError.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress

import numpy as np
import numpy.typing as npt

from voiceauth.errors import CallError, MalformedFrame
from voiceauth.transports.audiosocket.frames import Frame, FrameReader, Kind
from voiceauth.transports.impair import Impairments, schedule
from voiceauth.transports.ws.socket import paced, split_frames

FRAMES_PER_S = 50
"""Asterisk's 20 ms voice frames."""
CLOSE_WAIT_S = 10.0


async def play_audiosocket(
    pcm: npt.NDArray[np.int16],
    *,
    host: str,
    port: int,
    call_uuid: uuid.UUID | str,
    impairments: Impairments | None = None,
    digits: str = "",
    rate: int = 8000,
) -> None:
    """Stream pcm ((n,) int16 mono at `rate` Hz, the caller) as call `call_uuid`, press
    `digits`, hang up. Raises CallError if the service hangs up or reports an error first."""
    call = uuid.UUID(str(call_uuid))
    frames = split_frames(pcm, rate // FRAMES_PER_S)
    audio = [bytes(Frame.audio(frame, rate)) for frame in frames]
    tones = [bytes(Frame.dtmf(digit)) for digit in digits]
    reader, writer = await asyncio.open_connection(host, port)
    watcher = asyncio.create_task(_watch(reader))
    try:
        writer.write(bytes(Frame.for_call(call)))
        sends = schedule(len(audio), 1 / FRAMES_PER_S, impairments or Impairments())
        async for index in paced(sends):
            if watcher.done():
                break
            writer.write(audio[index])
            await writer.drain()
        for tone in tones:
            writer.write(tone)
        if not watcher.done():
            writer.write(bytes(Frame.hangup()))
            await writer.drain()
            writer.write_eof()
            async with asyncio.timeout(CLOSE_WAIT_S):
                await asyncio.wait({watcher})
        refusal = watcher.result()
    except (ConnectionError, OSError, MalformedFrame) as error:
        raise CallError(f"AudioSocket connection failed: {error}") from None
    finally:
        watcher.cancel()
        with suppress(asyncio.CancelledError, ConnectionError, OSError, MalformedFrame):
            await watcher
        writer.close()
        with suppress(ConnectionError, OSError):
            await writer.wait_closed()
    if refusal:
        raise CallError(f"server ended the call: {refusal}")


async def _watch(reader: asyncio.StreamReader) -> str | None:
    """What the service sends back until it closes: None for a plain close after our hang-up,
    else which frame ended the call."""
    frames = FrameReader()
    while data := await reader.read(4096):
        frames.feed(data)
        for raw in frames:
            frame = Frame.parse(raw)
            if frame.kind is Kind.HANGUP:
                return "hang-up frame"
            if frame.kind is Kind.ERROR:
                return f"error frame ({frame.error_code!r})"
    return None
