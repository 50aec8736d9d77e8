"""Probes and metrics: what an orchestrator and Prometheus ask of every replica."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from voiceauth.calls.service import CallService

router = APIRouter(tags=["health"])


@router.get("/healthz", description="Liveness: the process answers. No key needed.")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", description="Readiness: models loaded, store reachable, not draining.")
async def readyz(request: Request) -> JSONResponse:
    calls: CallService = request.app.state.calls
    checks = {
        "models": calls.ready,
        "store": await _store_reachable(calls),
        "draining": calls.draining,
    }
    ready = checks["models"] and checks["store"] and not checks["draining"]
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


async def _store_reachable(calls: CallService) -> bool:
    def ping() -> None:
        with calls.store.transaction() as session:
            session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), timeout=2.0)
    except Exception:  # any failure means "not ready"; the reason is in the server log
        return False
    return True


@router.get("/metrics", description="Prometheus metrics (text format).")
async def metrics(request: Request) -> Response:
    calls: CallService = request.app.state.calls
    return Response(
        calls.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
