"""The REST routes: customers, consent, enrolment, verification, voiceprints, rights, watchlist.

Store calls are blocking (database, sealing) and model calls are CPU work, so plain routes are
sync (FastAPI runs them in its thread pool) and upload routes hand the work to a thread after
reading the files: the event loop never embeds.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from voiceauth.api.auth import Admin, Agent, Enrol, Telephony, actor
from voiceauth.api.schemas import (
    ConsentIn,
    ConsentOut,
    CustomerIn,
    CustomerOut,
    EnrolmentOut,
    ErasureOut,
    Export,
    RetentionIn,
    RetentionOut,
    VerificationOut,
    VoiceprintOut,
    WatchlistOut,
)
from voiceauth.api.state import ApiState, api_state
from voiceauth.api.uploads import read_audio
from voiceauth.audio.channel import through
from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import Audio
from voiceauth.errors import InsufficientSpeech, UnknownCustomer
from voiceauth.store.records import WatchlistEntry
from voiceauth.verification import VerificationOutcome

WATCHLIST_MIN_SPEECH_S = 3.0
"""A watchlist voiceprint is searched against every call: ARCHITECTURE's 3 s minimum."""

State = Annotated[ApiState, Depends(api_state)]
Files = Annotated[list[UploadFile], File(description="audio files (WAV, FLAC, ...)")]
router = APIRouter()


@router.post("/customers", status_code=201, tags=["customers"])
def add_customer(body: CustomerIn, who: Agent, state: State) -> CustomerOut:
    """Register a customer (scope: agent or admin)."""
    customer = state.store.add_customer(
        actor=actor(who), customer_id=body.customer_id, phones=body.phones, eid_hint=body.eid_hint
    )
    return CustomerOut.of(customer)


@router.get("/customers/{customer_id}", tags=["customers"])
def get_customer(customer_id: str, who: Telephony, state: State) -> CustomerOut:
    """A customer's record (scope: telephony, agent or admin)."""
    return CustomerOut.of(state.store.get_customer(customer_id))


@router.get("/phones/{e164}", tags=["customers"])
def find_by_phone(e164: str, who: Telephony, state: State) -> CustomerOut:
    """ANI lookup: the customer a calling number belongs to (scope: telephony, agent, admin)."""
    customer = state.store.find_by_phone(e164)
    if customer is None:
        raise UnknownCustomer(e164)
    return CustomerOut.of(customer)


@router.post("/customers/{customer_id}/consent", status_code=201, tags=["consent"])
def grant_consent(customer_id: str, body: ConsentIn, who: Enrol, state: State) -> ConsentOut:
    """Record explicit consent to voice biometrics (scope: telephony or agent)."""
    consent = state.store.grant_consent(
        customer_id,
        actor=actor(who),
        text_version=body.text_version,
        channel=body.channel,
        evidence=body.evidence,
    )
    return ConsentOut.of(consent)


@router.delete("/customers/{customer_id}/consent", tags=["consent"])
def withdraw_consent(customer_id: str, who: Telephony, state: State) -> ErasureOut:
    """Withdraw consent; the voiceprints go in the same transaction (any scope)."""
    report = state.store.withdraw_consent(customer_id, actor=actor(who))
    state.cohort.remove(customer_id)
    return ErasureOut.of(report)


@router.get("/customers/{customer_id}/consents", tags=["consent"])
def list_consents(customer_id: str, who: Agent, state: State) -> list[ConsentOut]:
    """Every consent, withdrawn ones included (scope: agent or admin)."""
    return [ConsentOut.of(c) for c in state.store.consents(customer_id)]


@router.post("/customers/{customer_id}/enrolment", tags=["enrolment"])
async def enrol(customer_id: str, files: Files, who: Enrol, state: State) -> EnrolmentOut:
    """Active enrolment from recordings (scope: telephony or agent).

    The outcome says whether a voiceprint was stored and why not: no_consent (checked before
    the audio is processed), insufficient_speech, low_quality, inconsistent_speaker, spoof.
    """
    if not await asyncio.to_thread(state.store.has_consent, customer_id):
        return EnrolmentOut(outcome="no_consent", reason="no consent", stored=False, net_speech_s=0)
    audio = await read_audio(files, state.max_upload_bytes)
    result = await asyncio.to_thread(
        state.enroller.enrol_recordings,
        customer_id,
        audio,
        state.vad,
        actor=actor(who),
        channel=state.channel,
    )
    return EnrolmentOut.of(result)


@router.post("/customers/{customer_id}/verification", tags=["verification"])
async def verify(
    customer_id: str,
    files: Files,
    who: Enrol,
    state: State,
    call_id: Annotated[str | None, Form(max_length=128)] = None,
) -> VerificationOut:
    """Score a claimed customer's recording against their voiceprint (scope: telephony or
    agent).

    no_consent is answered before the audio is read; not_enrolled when there is no voiceprint
    of the running model; collecting below the minimum net speech; else scored, with an LLR
    when a calibration is configured. Each scoring reads the voiceprint, which is audited.
    """
    if not await asyncio.to_thread(state.store.has_consent, customer_id):
        return VerificationOut(
            outcome=VerificationOutcome.NO_CONSENT,
            model=state.verifier.model,
            net_speech_s=0.0,
            llr=None,
        )
    audio = [through(a, state.channel) for a in await read_audio(files, state.max_upload_bytes)]
    result = await asyncio.to_thread(
        state.verifier.verify_recordings,
        customer_id,
        audio,
        state.vad,
        actor=actor(who),
        call_id=call_id,
    )
    return VerificationOut.of(result)


@router.get("/customers/{customer_id}/voiceprints", tags=["enrolment"])
def voiceprint_status(customer_id: str, who: Telephony, state: State) -> list[VoiceprintOut]:
    """Voiceprint metadata, one per model (any scope); the vectors never leave the store."""
    return [VoiceprintOut.of(v) for v in state.store.voiceprints(customer_id)]


@router.delete("/customers/{customer_id}", tags=["rights"])
def erase_customer(customer_id: str, who: Admin, state: State) -> ErasureOut:
    """Erase everything held on the customer, GDPR Art. 17 (scope: admin)."""
    report = state.store.erase_customer(customer_id, actor=actor(who))
    state.cohort.remove(customer_id)
    return ErasureOut.of(report)


@router.get("/customers/{customer_id}/export", tags=["rights"])
def export_customer(customer_id: str, who: Admin, state: State) -> Export:
    """Everything held on the customer, GDPR Art. 15/20 (scope: admin)."""
    return state.store.export_customer(customer_id, actor=actor(who))


@router.post("/retention", tags=["rights"])
def run_retention(body: RetentionIn, who: Admin, state: State) -> RetentionOut:
    """Delete voiceprints unused for `unused_days` days, GDPR Art. 5(1)(e) (scope: admin).

    Each deletion and the run itself are audited; the cohort index drops the deleted ones.
    """
    report = state.store.run_retention(unused_days=body.unused_days, actor=actor(who))
    for customer_id, model in report.expired:
        if model == state.cohort.model:
            state.cohort.remove(customer_id)
    return RetentionOut.of(report)


def _watchlist_add(
    state: ApiState, audio: list[Audio], who: str, reason: str, case_id: str
) -> WatchlistEntry:
    rate = state.embedder.sample_rate
    speech = [extract_speech(a, state.vad, sample_rate=rate, min_speech_s=0.0) for a in audio]
    samples = np.concatenate([s.samples for s in speech])
    if len(samples) < WATCHLIST_MIN_SPEECH_S * rate:
        raise InsufficientSpeech(len(samples) / rate, WATCHLIST_MIN_SPEECH_S)
    embedding = state.embedder.embed(samples)
    return state.watchlist.add(embedding, actor=who, reason=reason, case_id=case_id)


@router.post("/watchlist", status_code=201, tags=["watchlist"])
async def add_to_watchlist(
    files: Files,
    reason: Annotated[str, Form()],
    case_id: Annotated[str, Form()],
    who: Admin,
    state: State,
) -> WatchlistOut:
    """Put a known fraudster's voice on the watchlist under a fraud case (scope: admin)."""
    audio = await read_audio(files, state.max_upload_bytes)
    entry = await asyncio.to_thread(_watchlist_add, state, audio, actor(who), reason, case_id)
    return WatchlistOut.of(entry)


@router.get("/watchlist", tags=["watchlist"])
def list_watchlist(who: Admin, state: State) -> list[WatchlistOut]:
    """Watchlist entries of every model (scope: admin)."""
    return [WatchlistOut.of(w) for w in state.store.watchlist()]


@router.delete("/watchlist/{entry_id}", status_code=204, tags=["watchlist"])
def remove_from_watchlist(entry_id: str, who: Admin, state: State) -> Response:
    """Take an entry off the watchlist and out of the search index at once (scope: admin)."""
    state.watchlist.remove(entry_id, actor=actor(who))
    return Response(status_code=204)
