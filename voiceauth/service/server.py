"""Running the service under uvicorn with a graceful drain on SIGTERM or Ctrl-C.

On the signal the call service refuses new calls at once, so a platform that reconnects is
sent to another replica, and one drain deadline starts for every step below. uvicorn's own
shutdown closes every WebSocket (1012) before the app's lifespan ends, so the app's
`drain_hooks` run first: AudioHook sessions are asked to reconnect and given until the
deadline to move to another replica (transports/audiohook/sessions.py). Calls on UDP and TCP
listeners then finish in the lifespan's drain.
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
        self._calls.begin_drain(self._drain_timeout_s)
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Move what can move, end the live streams (desks reconnect elsewhere, and uvicorn
        would otherwise wait for them), then uvicorn's shutdown and the app's drain, all
        within the one drain timeout."""
        left = self._calls.begin_drain(self._drain_timeout_s)
        await asyncio.gather(*(hook(left) for hook in self._drain_hooks))
        self._calls.updates.close_all("the service is shutting down")
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
