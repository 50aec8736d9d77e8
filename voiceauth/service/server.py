"""Running the service under uvicorn with a graceful drain on SIGTERM or Ctrl-C.

uvicorn stops accepting connections on the signal and waits (up to the drain timeout) for
open WebSocket calls to finish; the call service refuses new calls from the same moment, so a
platform that reconnects is sent to another replica. Calls on UDP and TCP listeners finish in
the app's lifespan shutdown.
"""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI

from voiceauth.calls.service import CallService


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, calls: CallService) -> None:
        super().__init__(config)
        self._calls = calls

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._calls.draining = True
        super().handle_exit(sig, frame)


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
    DrainingServer(config, app.state.calls).run()
