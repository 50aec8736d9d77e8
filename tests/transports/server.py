"""A real uvicorn server on a free loopback port, for driving transports over real sockets,
and the real speech the transport tests play through it.

Runs in the test's own event loop (as a task), so the sink it serves can be inspected
directly once a client is done.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import uvicorn
from fastapi import APIRouter, FastAPI

from voiceauth.audio.io import load_audio
from voiceauth.audio.pcm import float_to_pcm16
from voiceauth.audio.resample import to_rate
from voiceauth.transports.base import SAMPLE_RATE

START_TIMEOUT_S = 5.0


def app_with(*routers: APIRouter) -> FastAPI:
    app = FastAPI()
    for router in routers:
        app.include_router(router)
    return app


@asynccontextmanager
async def serving(
    app: FastAPI,
    *,
    lifespan: Literal["on", "off"] = "off",
    server_for: Callable[[uvicorn.Config], uvicorn.Server] = uvicorn.Server,
) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields its authority, `127.0.0.1:PORT`. A whole
    service app needs `lifespan="on"` (it loads its models there); `server_for` builds the
    server (the service's DrainingServer, for a test that drains it)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, lifespan=lifespan, log_level="warning", ws="websockets-sansio")
    server = server_for(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(START_TIMEOUT_S if lifespan == "off" else 120):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


def speech_8k(path: Path, seconds: float) -> npt.NDArray[np.int16]:
    """The first `seconds` of a real recording as 8 kHz int16, what the clients play."""
    audio = to_rate(load_audio(path), SAMPLE_RATE)
    return float_to_pcm16(audio.samples[: int(seconds * SAMPLE_RATE)])
