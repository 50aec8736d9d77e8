"""What the routes share: the store, the models and the indices, built once per app.

Held on `app.state` by the app factory's lifespan (no module globals), handed to routes by
dependency, so tests build their own app around their own store and models.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from voiceauth.api.keys import ApiKeys
from voiceauth.audio.channel import Channel
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.base import Embedder
from voiceauth.enrolment import Enroller
from voiceauth.index import CohortIndex, WatchlistMonitor
from voiceauth.store import VoiceprintStore
from voiceauth.verification import Verifier

DEFAULT_MAX_UPLOAD_BYTES = 20 * 2**20
"""Per file: ~10 min of 16 kHz 16-bit WAV, far beyond any enrolment recording."""


@dataclass(frozen=True, slots=True)
class ApiState:
    store: VoiceprintStore
    keys: ApiKeys
    embedder: Embedder
    vad: SileroVad
    enroller: Enroller
    verifier: Verifier
    watchlist: WatchlistMonitor
    cohort: CohortIndex
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    channel: Channel = "telephony"


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.voiceauth
    return state
