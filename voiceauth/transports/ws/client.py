"""Play a recording into the service over the generic WebSocket (`voiceauth simulate`).

Start message, the service's `started`, 20 ms binary frames of 16-bit little-endian PCM at the
chosen rate paced by `impair.schedule`, `dtmf` per digit, `stop`. The frames carry no timestamps
and TCP neither reorders nor duplicates, so impairments act as on a platform's reliable link:
a lost frame is never sent, jitter delays frames, a reordered frame holds back the ones behind
it, and a duplicate is not resent.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceauth.errors import CallError
from voiceauth.transports.base import CallStart
from voiceauth.transports.impair import Impairments, Send, schedule
from voiceauth.transports.ws import socket
from voiceauth.transports.ws.endpoint import API_KEY_HEADER
from voiceauth.transports.ws.messages import (
    WsDtmf,
    WsError,
    WsStart,
    WsStop,
    dumps,
    parse_server,
)

FRAME_S = 0.02


def in_order(sends: list[Send]) -> list[Send]:
    """The schedule as a reliable, ordered link delivers it: each frame once, in order, never
    before the frame ahead of it."""
    ordered: list[Send] = []
    for send in sorted(sends, key=lambda send: (send.index, send.at_s)):
        if ordered and ordered[-1].index == send.index:
            continue
        at = max(send.at_s, ordered[-1].at_s if ordered else 0.0)
        ordered.append(Send(at, send.index))
    return ordered


async def play_ws(
    pcm: npt.NDArray[np.int16],
    *,
    url: str,
    start: CallStart,
    api_key: str,
    impairments: Impairments | None = None,
    sample_rate: int = 8000,
    digits: str = "",
) -> None:
    """Stream pcm ((n,) int16 at sample_rate, 8000 or 16000 Hz: the caller) as call
    `start.call_id`, press `digits`, stop. Raises CallError if the service refuses the call
    or closes it other than normally."""
    frame_samples = int(sample_rate * FRAME_S)
    frames = socket.split_frames(pcm, frame_samples)
    opening = WsStart(
        call_id=start.call_id,
        ani=start.ani,
        dnis=start.dnis,
        customer_id=start.customer_id,
        sample_rate=sample_rate,
        parameters=dict(start.parameters),
    )
    async with socket.client(url, {API_KEY_HEADER: api_key}) as connection:
        await connection.send(dumps(opening))
        reply = parse_server(str(await connection.recv()))
        if isinstance(reply, WsError):
            raise CallError(f"server refused the call: {reply.code}: {reply.message}")
        sends = schedule(len(frames), FRAME_S, impairments or Impairments())
        async for index in socket.paced(in_order(sends)):
            await connection.send(frames[index].astype("<i2").tobytes())
        for digit in digits:
            await connection.send(dumps(WsDtmf(digit)))
        await connection.send(dumps(WsStop()))
        await socket.wait_closed(connection)
