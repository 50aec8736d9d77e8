"""`create_service_app`: the REST API of the store plus live calls, transports and probes.

It wraps the store API's app (`voiceauth.api.create_app`, which loads the embedder, VAD and
indices in its lifespan) and, once those are up, builds the call engine, attaches it to the
call service, opens the UDP and TCP listeners, and runs the call worker. On shutdown it drains:
no new calls, running calls get `drain_timeout_s` to end, the rest end as "shutdown".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from voiceauth.api import create_app
from voiceauth.api.app import api_keys_from
from voiceauth.api.state import ApiState
from voiceauth.audio.vad import SileroVad
from voiceauth.audio.vad_stream import BatchedVad
from voiceauth.calls.assess import CallAssessor
from voiceauth.calls.engine import CallEngine, Liveness
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.service import CallService
from voiceauth.calls.webhook import WebhookNotifier
from voiceauth.desk import desk_router
from voiceauth.embeddings.base import Embedder
from voiceauth.errors import ConfigError, VoiceauthError
from voiceauth.factors.directory import CrmDirectory
from voiceauth.factors.eid.outcome import EidStatus
from voiceauth.factors.eid.routes import eid_router
from voiceauth.factors.eid.service import EidCheck, eid_sessions
from voiceauth.factors.metrics import FactorMetrics
from voiceauth.factors.results import FactorResult
from voiceauth.factors.routes import factors_router
from voiceauth.factors.service import Factors
from voiceauth.fusion.levels import PolicyFile
from voiceauth.index.follow import StoreFollower
from voiceauth.service import health, routes
from voiceauth.service.liveness import enrolment_gate, liveness_for, load_countermeasure
from voiceauth.service.models import call_scoring
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore
from voiceauth.transports.audiohook import audiohook_router
from voiceauth.transports.audiosocket import AudioSocketServer
from voiceauth.transports.rtp import RtpServer
from voiceauth.transports.twilio.endpoint import twilio_router
from voiceauth.transports.ws.endpoint import ws_router

log = logging.getLogger(__name__)


def build_engine(
    api: ApiState, settings: Settings, *, liveness: Liveness | None = None
) -> CallEngine:
    """The call engine around the models the API already loaded."""
    model = f"{api.embedder.embedder_id}@{api.embedder.version}"
    scorer, policy = call_scoring(settings.model_files, model, api.cohort)
    return CallEngine(
        vad=BatchedVad(),
        embedder=api.embedder,
        scorer=scorer,
        policy=policy,
        watchlist=api.watchlist,
        liveness=liveness,
    )


FOLLOW_EVERY_S = 1.0
"""How often a replica reads the changes other replicas made (consent, erasure, enrolment)."""
FOLLOWER = "system:replica-follower"


async def _follow(follower: StoreFollower, service: CallService, every_s: float) -> None:
    """Apply the store's changes to this replica's indices and open calls, forever."""
    while True:
        await asyncio.sleep(every_s)
        try:
            changes = await asyncio.to_thread(follower.poll)
        except VoiceauthError:
            log.exception("following the store's changes failed; retrying")
            continue
        if changes.saved or changes.gone:
            await service.refresh_claims(changes.saved | changes.gone)


def _recorder(factors: Factors) -> Callable[[EidCheck], None]:
    """Keep each finished eID check with the call's other factor results."""

    def record(check: EidCheck) -> None:
        approved = check.status is EidStatus.APPROVED
        factors.results.record(check.call_id, FactorResult("eid", approved, datetime.now(UTC)))

    return record


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def crm(settings: Settings) -> CrmDirectory | None:
    """The operator's CRM for caller-ID lookup, when one is configured."""
    if settings.crm_url is None:
        return None
    token = settings.crm_token.get_secret_value() if settings.crm_token else None
    return CrmDirectory(
        settings.crm_url,
        customer_field=settings.crm_customer_field,
        token=token,
        timeout_s=settings.crm_timeout_s,
    )


def webhook(settings: Settings) -> WebhookNotifier:
    if settings.webhook_url is None or settings.webhook_secret is None:
        raise ConfigError("a webhook needs both VOICEAUTH_WEBHOOK_URL and VOICEAUTH_WEBHOOK_SECRET")
    return WebhookNotifier(
        settings.webhook_url, settings.webhook_secret.get_secret_value().encode()
    )


def create_service_app(
    settings: Settings,
    store: VoiceprintStore,
    *,
    embedder: Embedder | None = None,
    vad: SileroVad | None = None,
    liveness: Liveness | None = None,
) -> FastAPI:
    if settings.webhook_url:
        webhook(settings)  # a half-configured webhook stops the start, not the first call
    detector = (
        None
        if settings.cm == "none"
        else load_countermeasure(settings.cm, settings.countermeasure_dir)
    )
    gate = None if detector is None else enrolment_gate(detector)
    app = create_app(settings, store, embedder=embedder, vad=vad, countermeasure=gate)
    metrics = CallMetrics()
    levels = PolicyFile(settings.level_policy_file)
    app.state.levels = levels
    factors = Factors.from_settings(store, settings, metrics=FactorMetrics(metrics.registry))
    app.state.factors = factors
    service = CallService(
        store,
        metrics,
        max_calls=settings.max_calls,
        directory=crm(settings),
        assessor=CallAssessor(factors.results, levels.current),
        outcomes=store,
    )
    factors.results.listeners.append(service.republish)
    app.state.calls = service
    app.state.drain_hooks = []  # run on SIGTERM before uvicorn closes WebSockets (server.py)
    app.state.rtp = None
    app.state.audiosocket = None
    app.state.media_host = settings.media_host or settings.host
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            api: ApiState = app.state.voiceauth
            voice_model = f"{api.embedder.embedder_id}@{api.embedder.version}"
            checks = liveness
            if checks is None and detector is not None:
                checks = liveness_for(detector, settings.model_files, voice_model)
            engine = await asyncio.to_thread(build_engine, api, settings, liveness=checks)
            service.attach(engine)
            async with contextlib.AsyncExitStack() as stack:
                if settings.webhook_url:
                    notifier = webhook(settings)
                    service.listeners.append(notifier)
                    await stack.enter_async_context(notifier.running())
                await stack.enter_async_context(service.running())
                app.state.eid = await stack.enter_async_context(
                    eid_sessions(
                        settings,
                        on_result=_recorder(app.state.factors),
                        metrics=app.state.factors.metrics,
                    )
                )
                follower = StoreFollower(store, api.cohort, api.watchlist, actor=FOLLOWER)
                stack.push_async_callback(
                    _cancel, asyncio.create_task(_follow(follower, service, FOLLOW_EVERY_S))
                )
                rtp = RtpServer(
                    service, metrics, host=settings.host, port_range=settings.rtp_port_range
                )
                await rtp.start()
                stack.push_async_callback(rtp.close)
                app.state.rtp = rtp
                if settings.audiosocket_port:
                    audiosocket = AudioSocketServer(
                        service, metrics, host=settings.host, port=settings.audiosocket_port
                    )
                    await audiosocket.start()
                    stack.push_async_callback(audiosocket.close)
                    app.state.audiosocket = audiosocket
                yield
                await service.drain(settings.drain_timeout_s)

    app.router.lifespan_context = lifespan
    keys = api_keys_from(settings)
    app.include_router(
        twilio_router(
            service, metrics, auth_token=settings.twilio_auth_token, public_url=settings.public_url
        )
    )
    app.include_router(ws_router(service, metrics, keys=keys))
    app.include_router(
        audiohook_router(
            service,
            metrics,
            keys=keys,
            client_secret=settings.audiohook_client_secret,
            drains=app.state.drain_hooks,
        )
    )
    app.include_router(health.router)
    app.include_router(routes.router)
    app.include_router(routes.desk)
    app.include_router(desk_router())
    app.state.eid = None
    app.include_router(factors_router(service, factors))
    app.include_router(
        eid_router(service, lambda: app.state.eid, lambda cid: store.get_customer(cid).eid_hint)
    )
    return app
