"""`create_app`: the REST API around one store, with its models loaded once in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from voiceauth.api import errors, reports
from voiceauth.api.keys import ApiKeys
from voiceauth.api.routes import router
from voiceauth.api.state import DEFAULT_MAX_UPLOAD_BYTES, ApiState
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.base import Embedder
from voiceauth.embeddings.factory import create_embedder
from voiceauth.enrolment import Countermeasure, Enroller, EnrolmentPolicy
from voiceauth.errors import ConfigError
from voiceauth.index import CohortIndex, WatchlistMonitor
from voiceauth.scoring.asnorm import DEFAULT_TOP_N
from voiceauth.scoring.calibration import Calibration
from voiceauth.scoring.shipped import shipped_calibrations
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore
from voiceauth.verification import Verifier
from voiceauth.verification.scorer import VoiceScorer

START = "system:api-start"
"""The audit log's actor for the bulk read that builds the cohort index."""
NO_API_KEYS = (
    "no API keys configured: run `voiceauth keys api NAME --scope agent` and put the printed "
    "configuration line (it holds the key's hash, not the key) in VOICEAUTH_API_KEYS"
)


def api_keys_from(settings: Settings) -> ApiKeys:
    if settings.api_keys is None:
        raise ConfigError(NO_API_KEYS)
    keys = ApiKeys.parse(settings.api_keys.get_secret_value())
    if not len(keys):
        raise ConfigError(NO_API_KEYS)
    return keys


def create_app(
    settings: Settings,
    store: VoiceprintStore,
    *,
    embedder: Embedder | None = None,
    vad: SileroVad | None = None,
    policy: EnrolmentPolicy | None = None,
    countermeasure: Countermeasure | None = None,
    calibration: Calibration | None = None,
    cosine_calibration: Calibration | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    cohort_top_n: int = DEFAULT_TOP_N,
) -> FastAPI:
    """The API app; models not passed in are loaded (once) when the app starts.

    The API keys are checked here, at build time: a server without keys must not start.
    Verification answers with an LLR when the kind of score it uses has a calibration:
    `calibration` for AS-normed scores (once the cohort is large enough), `cosine_calibration`
    for plain cosine (see `VoiceScorer`); by default those shipped for the model.
    """
    keys = api_keys_from(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model: Embedder = (
            embedder
            if embedder is not None
            else await asyncio.to_thread(
                create_embedder, settings.embedder, ecapa_dir=settings.ecapa_model_dir
            )
        )
        detector = vad if vad is not None else await asyncio.to_thread(SileroVad)
        name = f"{model.embedder_id}@{model.version}"
        shipped = shipped_calibrations(settings.model_files, name)
        monitor = await asyncio.to_thread(WatchlistMonitor.build, store, name, model.dimension)
        cohort = await asyncio.to_thread(
            CohortIndex.build, store, name, model.dimension, actor=START, top_n=cohort_top_n
        )
        app.state.voiceauth = ApiState(
            store=store,
            keys=keys,
            embedder=model,
            vad=detector,
            enroller=Enroller(
                store,
                model,
                policy=policy,
                countermeasure=countermeasure,
                on_saved=cohort.on_saved,
            ),
            verifier=Verifier(
                store,
                model,
                scorer=VoiceScorer(
                    name,
                    calibration=calibration or shipped.normalised,
                    cosine_calibration=cosine_calibration or shipped.cosine,
                    cohort=cohort,
                ),
            ),
            watchlist=monitor,
            cohort=cohort,
            max_upload_bytes=max_upload_bytes,
            channel=settings.channel,
        )
        yield

    app = FastAPI(
        title="voiceauth",
        summary="Consent, enrolment, voiceprints and the fraud watchlist of voiceauth.",
        description=(
            "Every route needs an `X-API-Key` header; each route's description names the "
            "scopes (telephony, agent, admin) it admits. 401: missing or unknown key; "
            "403: the key lacks the scope."
        ),
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(router)
    app.include_router(reports.router)
    return app
