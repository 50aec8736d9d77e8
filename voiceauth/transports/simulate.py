"""Play a recording as a real call over any transport, and read back what the service decided.

`voiceauth simulate` and the load benchmark use this against a running server: the audio goes
over the transport's own wire protocol (with the chosen network impairments), the call is
opened first through the REST API where the platform would do that (RTP, AudioSocket), and
the final state comes from `GET /calls/{id}`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import numpy.typing as npt

from voiceauth.audio.io import load_audio
from voiceauth.audio.pcm import float_to_pcm16
from voiceauth.audio.resample import resample
from voiceauth.errors import CallError, ConfigError
from voiceauth.transports.audiohook import play_audiohook
from voiceauth.transports.audiosocket import play_audiosocket
from voiceauth.transports.base import SAMPLE_RATE, CallStart
from voiceauth.transports.impair import Impairments
from voiceauth.transports.rtp import send_rtp
from voiceauth.transports.twilio import play_twilio
from voiceauth.transports.ws import play_ws

Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class Target:
    """Where the service is and the credentials each transport needs."""

    server: str
    """Base URL of the HTTP service, e.g. http://127.0.0.1:8080."""
    api_key: str
    twilio_auth_token: str | None = None
    audiohook_client_secret: str | None = None
    audiosocket_port: int = 9092

    @property
    def host(self) -> str:
        return urlsplit(self.server).hostname or "127.0.0.1"

    def ws(self, path: str) -> str:
        parts = urlsplit(self.server)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{path}"


Player = Callable[[Pcm, CallStart, Target, Impairments, httpx.AsyncClient], Awaitable[None]]


async def _twilio(
    pcm: Pcm, start: CallStart, target: Target, impair: Impairments, _: httpx.AsyncClient
) -> None:
    if target.twilio_auth_token is None:
        raise ConfigError(
            "simulating Twilio needs the auth token the server checks signatures with"
        )
    await play_twilio(
        pcm,
        url=target.ws("/twilio/media"),
        start=start,
        auth_token=target.twilio_auth_token,
        impairments=impair,
    )


async def _ws(
    pcm: Pcm, start: CallStart, target: Target, impair: Impairments, _: httpx.AsyncClient
) -> None:
    await play_ws(
        pcm, url=target.ws("/ws/calls"), start=start, api_key=target.api_key, impairments=impair
    )


async def _audiohook(
    pcm: Pcm, start: CallStart, target: Target, impair: Impairments, _: httpx.AsyncClient
) -> None:
    if target.audiohook_client_secret is None:
        raise ConfigError("simulating AudioHook needs the integration's client secret")
    await play_audiohook(
        pcm,
        url=target.ws("/audiohook/ws"),
        start=start,
        api_key=target.api_key,
        client_secret=target.audiohook_client_secret,
        impairments=impair,
    )


async def _audiosocket(
    pcm: Pcm, start: CallStart, target: Target, impair: Impairments, http: httpx.AsyncClient
) -> None:
    """As an Asterisk dialplan does: register the call with its UUID, then stream to it."""
    await _open(http, start)
    await play_audiosocket(
        pcm,
        host=target.host,
        port=target.audiosocket_port,
        call_uuid=uuid.UUID(start.call_id),
        impairments=impair,
    )


async def _rtp(
    pcm: Pcm, start: CallStart, target: Target, impair: Impairments, http: httpx.AsyncClient
) -> None:
    """As an SBC does: open the call, send media to the port the answer names, hang up."""
    opened = await _open(http, start)
    await send_rtp(pcm, host=target.host, port=opened["rtp"]["port"], impairments=impair)
    await asyncio.sleep(0.2)  # the last packets are in flight on UDP
    response = await http.post(f"/calls/{start.call_id}/end", json={"reason": "hangup"})
    if response.status_code != 200:
        raise CallError(f"ending the call: HTTP {response.status_code} {response.text}")


async def _open(http: httpx.AsyncClient, start: CallStart) -> dict[str, Any]:
    body = {
        "call_id": start.call_id,
        "transport": start.transport,
        "ani": start.ani,
        "dnis": start.dnis,
        "customer_id": start.customer_id,
    }
    response = await http.post("/calls", json=body)
    if response.status_code != 201:
        raise CallError(f"POST /calls: HTTP {response.status_code} {response.text}")
    opened: dict[str, Any] = response.json()
    return opened


PLAYERS: dict[str, Player] = {
    "audiohook": _audiohook,
    "audiosocket": _audiosocket,
    "rtp": _rtp,
    "twilio": _twilio,
    "ws": _ws,
}
TRANSPORTS = tuple(sorted(PLAYERS))


def call_audio(path: Path) -> Pcm:
    """A recording as 8 kHz 16-bit mono, what every transport carries."""
    audio = load_audio(path)
    return float_to_pcm16(resample(audio.samples, audio.sample_rate, SAMPLE_RATE))


async def simulate(
    path: Path,
    transport: str,
    target: Target,
    *,
    customer_id: str | None = None,
    ani: str | None = None,
    dnis: str | None = None,
    impairments: Impairments | None = None,
    call_id: str | None = None,
) -> dict[str, Any]:
    """Play `path` as one call; returns the final call state plus what the run measured."""
    if transport not in PLAYERS:
        raise ConfigError(f"unknown transport {transport!r}; choose one of {', '.join(TRANSPORTS)}")
    pcm = call_audio(path)
    start = CallStart(call_id or str(uuid.uuid4()), transport, ani, dnis, customer_id)
    began = time.monotonic()
    headers = {"X-API-Key": target.api_key}
    async with httpx.AsyncClient(base_url=target.server, headers=headers, timeout=30) as http:
        await PLAYERS[transport](pcm, start, target, impairments or Impairments(), http)
        result = await _final(http, start.call_id)
    result["simulation"] = {
        "file": str(path),
        "transport": transport,
        "audio_s": round(len(pcm) / SAMPLE_RATE, 3),
        "wall_s": round(time.monotonic() - began, 3),
    }
    return result


async def _final(http: httpx.AsyncClient, call_id: str) -> dict[str, Any]:
    """The call's state once the service has ended it (the transport's hang-up)."""
    deadline = time.monotonic() + 30
    while True:
        response = await http.get(f"/calls/{call_id}")
        if response.status_code != 200:
            raise CallError(f"GET /calls/{call_id}: HTTP {response.status_code} {response.text}")
        state: dict[str, Any] = response.json()
        if state["ended"] or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.1)
