"""`CallService`: the live call service behind every transport (a `CallSink`).

Transports call it on the event loop; it never does model work there. Frames queue on their
call's session; one worker hands every call with enough new audio to the engine's cheap VAD
pass in a thread, another runs the model pass (embeddings, liveness, decision) on the calls
it made due, in a second thread, so the two use both cores and a slow model pass never holds
up listening. Each kind of pass runs one at a time; the calls whose state changed are
published. Claimed customers are looked up once per claim, in a thread, and
the voiceprint kept in memory for the call only (its use is audited by the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from voiceauth.audio.vad_stream import WINDOW as VAD_WINDOW
from voiceauth.calls.assess import CallAssessor
from voiceauth.calls.engine import CallEngine, Update
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.session import CallSession, Claim, VoiceEvidence
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.calls.streams import Broadcaster
from voiceauth.errors import (
    CallExists,
    CallRejected,
    DirectoryUnavailable,
    InvalidRecord,
    UnknownCall,
    UnknownCustomer,
    VoiceauthError,
)
from voiceauth.fusion.levels import VERIFIED_LEVEL
from voiceauth.reporting.outcome import CallOutcome
from voiceauth.store import VoiceprintStore
from voiceauth.transports.base import SAMPLE_RATE, CallStart, Track

log = logging.getLogger(__name__)

ACTOR = "system:call-service"
BATCH_SAMPLES = 512
"""64 ms of new audio in a call wakes the listening worker, which then passes at most once
per 64 ms over every call with a VAD window (32 ms) waiting: a pass costs a few ms whatever
its size, so one pass for all calls instead of one per call keeps the VAD cheap at hundreds
of calls, while this bounds the latency it adds (a frame waits half of it on average; 128 ms
gave a p50 of 170 ms from frame to update, 64 ms gives 75 ms, benchmarks/load.py)."""
UNIDENTIFIED = "customer number not recognised: route to an agent unidentified"
KEYED_WAIT_S = 3.0
"""How long a request for the caller's keypad entry waits for its closing `#`."""
KEEP_RESULTS = 10_000
"""Ended calls whose final snapshot stays readable (GET /calls/{id}) after the call."""

Listener = Callable[[CallSnapshot], None]


class Directory(Protocol):
    """Where caller-IDs unknown locally are looked up (factors.directory.CrmDirectory):
    a customer id, None for nobody, DirectoryUnavailable when it cannot tell."""

    async def customer_for(self, ani: str) -> str | None: ...


def outcome_of(final: CallSnapshot) -> CallOutcome:
    """What reports keep of an ended call: no customer, no scores."""
    assessed = final.assessment
    return CallOutcome(
        call_id=final.call_id,
        transport=final.transport,
        started_at=final.started_at or datetime.now(UTC),
        ended_at=datetime.now(UTC),
        dnis=final.dnis,
        identified=final.customer_id is not None,
        voice_state=final.voice_state.value,
        level=assessed.level if assessed else 0,
        route=assessed.route if assessed else "",
        factors_verified=final.factors_verified,
        verified_after_s=final.verified_after_s,
        decided_after_speech_s=final.decided_after_speech_s,
        end_reason=final.end_reason,
    )


class OutcomeStore(Protocol):
    """Where finished calls' outcomes go (the store's `record_outcome`)."""

    def record_outcome(self, outcome: CallOutcome) -> None: ...


class CallService:
    def __init__(
        self,
        store: VoiceprintStore,
        metrics: CallMetrics,
        *,
        max_calls: int = 500,
        batch_samples: int = BATCH_SAMPLES,
        directory: Directory | None = None,
        assessor: CallAssessor | None = None,
        outcomes: OutcomeStore | None = None,
    ) -> None:
        self.directory = directory
        self.assess = assessor if assessor is not None else CallAssessor()
        self.outcomes = outcomes
        self._engine: CallEngine | None = None
        self.store = store
        self.metrics = metrics
        self.max_calls = max_calls
        self.batch_samples = batch_samples
        self.updates = Broadcaster()
        self.listeners: list[Listener] = []
        self.draining = False
        self._drain_deadline: float | None = None
        self._sessions: dict[str, CallSession] = {}
        self._results: OrderedDict[str, CallSnapshot] = OrderedDict()
        self._ready: set[str] = set()
        self._due: set[str] = set()
        self._wake = asyncio.Event()
        self._score_wake = asyncio.Event()
        self._listening = asyncio.Lock()
        self._scoring = asyncio.Lock()

    # -- the CallSink interface ---------------------------------------------------------------

    async def start(self, start: CallStart, *, attach: bool = False) -> None:
        if start.call_id in self._sessions:
            if attach:
                return
            raise CallExists(start.call_id)
        if self._engine is None:
            self.metrics.rejected_calls.labels(start.transport, "not_ready").inc()
            raise CallRejected("the service is still loading its models")
        if self.draining:
            self.metrics.rejected_calls.labels(start.transport, "draining").inc()
            raise CallRejected("the service is shutting down: no new calls")
        if len(self._sessions) >= self.max_calls:
            self.metrics.rejected_calls.labels(start.transport, "full").inc()
            raise CallRejected(f"the service is at its limit of {self.max_calls} calls")
        session = CallSession(start, self.engine.vad.new_stream())
        self._sessions[start.call_id] = session
        earlier = self._results.pop(start.call_id, None)
        self.metrics.calls.labels(start.transport).inc()
        self.metrics.active_calls.set(len(self._sessions))
        identify = self.assess.policy().line_for(start.dnis).identify
        session.keyed_limit = identify.keyed_attempts
        # a call id seen before is the same call on a new leg (a transfer, a new stream): its
        # claim stays, as its factor results do (kept by call id); the voice is heard afresh
        customer_id = start.customer_id or (earlier.customer_id if earlier else None)
        if customer_id is None and identify.ani_lookup:
            try:
                customer_id = await self._by_phone(start.ani)
            except DirectoryUnavailable as exc:
                session.reasons = (f"{exc}: identify the caller another way",)
        if customer_id:
            await self._claim(session, customer_id)
        self._publish(session)

    async def audio(self, call_id: str, track: Track, pcm: npt.NDArray[np.int16]) -> None:
        session = self._open(call_id)  # frames are counted by the transport that decoded them
        if track != "caller":
            return  # the agent's voice is never embedded; it only has to be kept apart
        if session.receive(pcm) >= self.batch_samples:
            self._ready.add(call_id)
            self._wake.set()

    async def dtmf(self, call_id: str, digit: str) -> None:
        """Keypad digits ended by `#`: before any claim a customer number, after it an entry
        kept for the IVR to have checked as a PIN (`keyed`)."""
        session = self._open(call_id)
        session.dtmf += digit
        if digit != "#":
            return
        if session.claim is not None:
            session.keyed, session.dtmf = session.dtmf[:-1], ""
            return
        number, session.dtmf = session.dtmf[:-1], ""
        if session.keyed_attempts >= session.keyed_limit:
            return
        session.keyed_attempts += 1
        if number and await self._known(number):
            await self._claim(session, number)
        elif session.keyed_attempts >= session.keyed_limit:
            session.reasons = (UNIDENTIFIED,)
        else:
            session.reasons = (f"customer number not recognised: attempt {session.keyed_attempts}",)
        self._publish(session)

    async def keyed(self, call_id: str, *, wait_s: float = KEYED_WAIT_S) -> str | None:
        """Take the caller's last keypad entry (once), waiting a little for its `#`: the IVR
        asks as soon as its prompt ends, while the last digits may still be on the way."""
        session = self._open(call_id)
        deadline = time.monotonic() + wait_s
        while session.keyed is None and time.monotonic() < deadline and not session.ended:
            await asyncio.sleep(0.05)
        entry, session.keyed = session.keyed, None
        return entry

    async def _known(self, customer_id: str) -> bool:
        try:
            await asyncio.to_thread(self.store.get_customer, customer_id)
        except (UnknownCustomer, InvalidRecord):
            return False
        return True

    async def end(self, call_id: str, reason: str) -> CallSnapshot:
        session = self._open(call_id)
        async with self._listening, self._scoring:
            updates = await asyncio.to_thread(self.engine.process, [session])
        self._observe(updates)
        session.ended, session.end_reason = True, reason
        del self._sessions[call_id]
        self._ready.discard(call_id)
        self._due.discard(call_id)
        self.engine.forget(call_id)
        self.metrics.active_calls.set(len(self._sessions))
        final = self._publish(session)
        self._results[call_id] = final
        while len(self._results) > KEEP_RESULTS:
            self._results.popitem(last=False)
        self.metrics.observe_outcome(final)
        if self.outcomes is not None:
            await self._keep(final)
        return final

    async def _keep(self, final: CallSnapshot) -> None:
        """Store the call's outcome for reports; a store that is down loses only that row."""
        assert self.outcomes is not None
        try:
            await asyncio.to_thread(self.outcomes.record_outcome, outcome_of(final))
        except VoiceauthError:
            log.exception("could not store the outcome of call %s", final.call_id)

    def snapshot(self, call_id: str) -> CallSnapshot:
        """The call as everyone outside sees it, with its current level and route."""
        session = self._sessions.get(call_id)
        if session is not None:
            return self._view(session)
        if call_id in self._results:
            return self.assess(self._results[call_id])
        raise UnknownCall(call_id)

    def republish(self, call_id: str) -> None:
        """Publish an open call again (a factor result changed its level)."""
        session = self._sessions.get(call_id)
        if session is not None:
            self._publish(session)

    # -- beyond the sink: claims, the worker, shutdown ----------------------------------------

    @property
    def engine(self) -> CallEngine:
        if self._engine is None:
            raise CallRejected("the service is still loading its models")
        return self._engine

    def attach(self, engine: CallEngine) -> None:
        """Take the models once they are loaded; calls are refused until then."""
        self._engine = engine

    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def active_calls(self) -> int:
        return len(self._sessions)

    async def claim(self, call_id: str, customer_id: str) -> CallSnapshot:
        """Set or change the claimed customer (IVR identification, DTMF customer number)."""
        session = self._open(call_id)
        await self._claim(session, customer_id)
        return self._publish(session)

    async def refresh_claims(self, customers: Collection[str]) -> None:
        """Look claims on these customers up again (their consent or voiceprint changed,
        possibly on another replica): an erased or withdrawn customer's voice stops being
        checked at once, mid-call."""
        for session in list(self._sessions.values()):
            if session.claim is not None and session.claim.customer_id in customers:
                await self._claim(session, session.claim.customer_id)
                self._publish(session)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the workers for the duration of the block (the app's lifespan)."""
        workers = [
            asyncio.create_task(self._listen_work(), name="voiceauth-listen"),
            asyncio.create_task(self._score_work(), name="voiceauth-score"),
        ]
        try:
            yield
        finally:
            for worker in workers:
                worker.cancel()
            for worker in workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    async def settled(self) -> None:
        """Wait until every queued batch has been processed: how a caller paced in real time
        sees the service (tests and benchmarks that send faster than real time use it)."""
        while self._ready or self._due or self._listening.locked() or self._scoring.locked():
            await asyncio.sleep(0.005)

    def begin_drain(self, timeout_s: float) -> float:
        """Refuse new calls from now on; the whole drain, however many steps it takes, ends
        timeout_s from the first call of this. Returns the seconds left."""
        self.draining = True
        if self._drain_deadline is None:
            self._drain_deadline = time.monotonic() + timeout_s
        return max(0.0, self._drain_deadline - time.monotonic())

    async def drain(self, timeout_s: float) -> list[CallSnapshot]:
        """Refuse new calls, let running ones end by themselves until the drain's deadline
        (timeout_s from its beginning), then end the rest ("shutdown"); returns the final
        snapshots of those ended here."""
        deadline = time.monotonic() + self.begin_drain(timeout_s)
        while self._sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        ended = [await self.end(call_id, "shutdown") for call_id in list(self._sessions)]
        self.updates.close_all("the service is shutting down")
        return ended

    def _open(self, call_id: str) -> CallSession:
        session = self._sessions.get(call_id)
        if session is None:
            raise UnknownCall(call_id)
        return session

    async def _claim(self, session: CallSession, customer_id: str) -> None:
        session.claim = await asyncio.to_thread(self._lookup, customer_id, session.call_id)
        session.voice_llr = None
        session.voice = VoiceEvidence()
        session.liveness_llr = None
        session.embedded_at_samples = session.speech_samples - session.stored_samples
        session.state = session.claim.state or VoiceState.COLLECTING
        session.reasons = (session.claim.reason or "claim accepted: listening",)

    async def _by_phone(self, ani: str | None) -> str | None:
        """The claim caller-ID makes: the customer registered with this number here, else the
        one the operator's directory (CRM) names, if any (DirectoryUnavailable if it can't)."""
        if not ani:
            return None
        try:
            customer = await asyncio.to_thread(self.store.find_by_phone, ani)
        except InvalidRecord:
            return None  # an ANI that is not a valid E.164 number identifies no one
        if customer is not None:
            return customer.id
        return None if self.directory is None else await self.directory.customer_for(ani)

    def _lookup(self, customer_id: str, call_id: str) -> Claim:
        """What the store allows for this claim; consent is checked before the voiceprint is
        read, so a customer without consent never has their voice processed."""
        try:
            if not self.store.has_consent(customer_id):
                return Claim(
                    customer_id,
                    VoiceState.NO_CONSENT,
                    reason="no voice-biometrics consent: verify without voice",
                )
            voiceprint = self.store.load_voiceprint(
                customer_id, self.engine.scorer.model, actor=ACTOR, call_id=call_id
            )
        except UnknownCustomer:
            return Claim(customer_id, VoiceState.NOT_ENROLLED, reason="customer not on file")
        if voiceprint is None:
            return Claim(
                customer_id,
                VoiceState.NOT_ENROLLED,
                reason="no voiceprint for this model: verify without voice",
            )
        return Claim(customer_id, voiceprint=voiceprint.vector)

    async def _listen_work(self) -> None:
        """The VAD pass over every call with new audio; hands model work to `_score_work`."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            started = time.monotonic()
            self._ready.clear()
            ready = [s for s in self._sessions.values() if s.queued_samples >= VAD_WINDOW]
            if not ready:
                continue
            try:
                async with self._listening:
                    heard, due = await asyncio.to_thread(self.engine.listen, ready)
            except Exception:  # a failure must not stop every other call
                log.exception("listening pass failed for %d calls", len(ready))
                continue
            self._observe(heard)
            if due:
                self._due.update(session.call_id for session in due)
                self._score_wake.set()
            # the next pass waits for the rest of the batch interval: every call that has
            # audio by then joins it, so one network pass serves them all
            await asyncio.sleep(self.batch_samples / SAMPLE_RATE - (time.monotonic() - started))

    async def _score_work(self) -> None:
        """The model pass, in its own thread, so the VAD keeps up while embeddings run."""
        while True:
            await self._score_wake.wait()
            self._score_wake.clear()
            due = [self._sessions[c] for c in self._due if c in self._sessions]
            self._due.clear()
            if not due:
                continue
            try:
                async with self._scoring:
                    updates = await asyncio.to_thread(self.engine.score, due)
            except Exception:  # a model failure must not stop every other call
                log.exception("model pass failed for %d calls", len(due))
                continue
            self._observe(updates)

    def _observe(self, updates: list[Update]) -> None:
        for update in updates:
            if update.latency_s is not None:
                self.metrics.decision_latency.observe(update.latency_s)
            self._publish(update.session)

    def _view(self, session: CallSession) -> CallSnapshot:
        """The session's snapshot assessed; the first verified level's time is kept."""
        view = self.assess(session.snapshot())
        level = view.assessment.level if view.assessment else 0
        if session.verified_after_s is None and level >= VERIFIED_LEVEL:
            session.verified_after_s = round(time.monotonic() - session.opened_at, 3)
            view = replace(view, verified_after_s=session.verified_after_s)
        return view

    def _publish(self, session: CallSession) -> CallSnapshot:
        snapshot = self._view(session)
        self.updates.publish(snapshot)
        for listener in self.listeners:
            listener(snapshot)
        return snapshot
