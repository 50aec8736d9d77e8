"""Running the service under uvicorn with a graceful drain on SIGTERM or Ctrl-C.

uvicorn stops accepting connections on the signal and waits (up to the drain timeout) for
open WebSocket calls to finish; the call service refuses new calls from the same moment, so a
platform that reconnects is sent to another replica. Calls on UDP and TCP listeners finish in
the app's lifespan shutdown.

uvicorn's shutdown closes every WebSocket (1012) before that, so the app's `drain_hooks` run
first: AudioHook sessions are asked to reconnect and given up to the drain timeout to move to
another replica (transports/audiohook/sessions.py).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from types import FrameType

import uvicorn
from fastapi import FastAPI

from voiceauth.calls.service import CallService


class DrainingServer(uvicorn.Server):
    def __init__(
        self,
        config: uvicorn.Config,
        calls: CallService,
        *,
        drain_hooks: Sequence[Callable[[float], Awaitable[None]]] = (),
        drain_timeout_s: float = 0.0,
    ) -> None:
        super().__init__(config)
        self._calls = calls
        self._drain_hooks = drain_hooks
        self._drain_timeout_s = drain_timeout_s

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._calls.draining = True
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await asyncio.gather(*(hook(self._drain_timeout_s) for hook in self._drain_hooks))
        await super().shutdown(sockets)


def serve(app: FastAPI, *, host: str, port: int, drain_timeout_s: float) -> None:
    """Run until a signal, then drain."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        timeout_graceful_shutdown=max(1, round(drain_timeout_s)),
        log_level="info",
        ws="websockets-sansio",
    )
    DrainingServer(
        config,
        app.state.calls,
        drain_hooks=app.state.drain_hooks,
        drain_timeout_s=drain_timeout_s,
    ).run()
