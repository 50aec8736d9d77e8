"""Play a recording into the service as Twilio Media Streams would (`voiceauth simulate`).

Message order and fields as Twilio sends them: `connected`, `start` (with the caller's identity
in customParameters), one `media` per 20 ms with running chunk numbers and presentation
timestamps, `dtmf` per digit, `stop`; the upgrade carries `X-Twilio-Signature` over the URL.
Impairments go through `impair.schedule`: a lost frame is never sent but its timestamp slot
passes (as when Twilio's RTP leg loses audio), a reordered or duplicated frame goes out late
with its original timestamp (the service drops it as late).
"""

from __future__ import annotations

import secrets

import numpy as np
import numpy.typing as npt

from voiceauth.audio.g711 import mulaw_encode
from voiceauth.transports.base import FRAME_SAMPLES, SAMPLE_RATE, CallStart
from voiceauth.transports.impair import Impairments, schedule
from voiceauth.transports.twilio.messages import (
    INBOUND,
    Connected,
    Dtmf,
    Media,
    Start,
    Stop,
    TwilioMessage,
    dumps,
)
from voiceauth.transports.twilio.signature import SIGNATURE_HEADER, compute_signature
from voiceauth.transports.ws import socket

FRAME_MS = 1000 * FRAME_SAMPLES // SAMPLE_RATE


def custom_parameters(start: CallStart) -> dict[str, str]:
    """What a TwiML `<Stream>` would pass as `<Parameter>`s for this call."""
    identity = {"ani": start.ani, "dnis": start.dnis, "customerId": start.customer_id}
    return {**start.parameters, **{k: v for k, v in identity.items() if v}}


async def play_twilio(
    pcm: npt.NDArray[np.int16],
    *,
    url: str,
    start: CallStart,
    auth_token: str,
    impairments: Impairments | None = None,
    digits: str = "",
) -> None:
    """Stream pcm ((n,) int16, 8 kHz: the caller) to `url` as one Twilio stream of call
    `start.call_id`, then press `digits` and stop. Raises CallError if the service refuses or
    closes the stream other than normally."""
    frames = socket.split_frames(pcm, FRAME_SAMPLES)
    stream_sid, account_sid = "MZ" + secrets.token_hex(16), "AC" + secrets.token_hex(16)
    sequence = 0

    def numbered() -> int:
        nonlocal sequence
        sequence += 1
        return sequence

    headers = {SIGNATURE_HEADER: compute_signature(auth_token, url)}
    async with socket.client(url, headers) as connection:

        async def send(message: TwilioMessage) -> None:
            await connection.send(dumps(message))

        await send(Connected())
        await send(
            Start(
                sequence_number=numbered(),
                stream_sid=stream_sid,
                account_sid=account_sid,
                call_sid=start.call_id,
                custom_parameters=custom_parameters(start),
            )
        )
        sends = schedule(len(frames), FRAME_MS / 1000, impairments or Impairments())
        chunk = 0
        async for index in socket.paced(sends):
            chunk += 1
            payload = mulaw_encode(frames[index]).tobytes()
            await send(Media(numbered(), stream_sid, INBOUND, chunk, index * FRAME_MS, payload))
        for digit in digits:
            await send(Dtmf(numbered(), stream_sid, digit))
        await send(Stop(numbered(), stream_sid, account_sid, start.call_id))
        await socket.wait_closed(connection)
