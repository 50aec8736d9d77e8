"""`voiceauth serve`: the live call service with the embedded defaults."""

from __future__ import annotations

import logging
from typing import Annotated

import torch
import typer
from threadpoolctl import threadpool_limits

from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.cli.store import open_store
from voiceauth.errors import VoiceauthError
from voiceauth.settings import load_settings


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default VOICEAUTH_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default VOICEAUTH_PORT)")] = None,
    threads: Annotated[
        int, typer.Option(help="threads for model work (torch, BLAS and OpenMP pools)")
    ] = 1,
) -> None:
    """Serve the REST API, live calls and every transport until SIGTERM, then drain."""
    from voiceauth.service.app import create_service_app
    from voiceauth.service.server import serve as run

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    torch.set_num_threads(threads)
    settings = load_settings()
    try:
        store = open_store(settings)
        service_app = create_service_app(settings, store)
    except VoiceauthError as exc:
        fail(str(exc))
    # numpy's OpenBLAS starts a worker per core that spins between the small matrix products
    # of live calls: half a core of two, measured under load. Every pool loaded by now
    # (models, faiss) is held to `threads`, as torch is.
    threadpool_limits(limits=threads)
    with store:
        run(
            service_app,
            host=host or settings.host,
            port=port or settings.port,
            drain_timeout_s=settings.drain_timeout_s,
        )
