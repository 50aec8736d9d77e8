"""The model work of live calls, batched across calls: VAD, embeddings, scores, liveness.

`CallEngine.process` runs in one worker thread on every call with new audio. The VAD advances
all of them in one batch; a call's new net speech is embedded in chunks (`update_every_s`
before a decision, `recheck_every_s` after it), the chunks due in all calls share one
`embed_batch`, and a call's voice evidence is the duration-weighted mean of its chunk
embeddings (for GE2E, whose utterance embedding is itself the mean of 1.6 s partials, nearly
the whole-utterance embedding). So each second of speech is embedded once, not again at every
update. After a match each chunk is also scored alone, so a handed-over phone shows as a
change of speaker. The countermeasure runs on the accumulated speech from 3 s, on its own
schedule (see liveness.streaming), until the call is decided. Cost per call is thereby bounded
by speech, not by frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from voiceauth.audio.channel import band_limit
from voiceauth.audio.resample import resample
from voiceauth.audio.vad_stream import BatchedVad
from voiceauth.calls.decision import DecisionPolicy, decide
from voiceauth.calls.session import CallSession
from voiceauth.calls.snapshot import DECIDED, VoiceState
from voiceauth.embeddings.base import Embedder, Embedding, Vector
from voiceauth.fusion.model import SpoofAwareFusion
from voiceauth.index.watchlist import WatchlistMonitor
from voiceauth.transports.base import SAMPLE_RATE
from voiceauth.verification.scorer import VoiceScorer


class LivenessStream(Protocol):
    """A call's countermeasure over its accumulated speech (liveness.streaming)."""

    def add(self, speech: npt.NDArray[np.float32]) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Liveness:
    """How to give each call its own liveness stream, the rate it wants speech at, and the
    fusion that judges its LLR together with the voice's (None: each by its threshold)."""

    new_stream: Callable[[], LivenessStream]
    sample_rate: int
    fusion: SpoofAwareFusion | None = None


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """update_every_s: new net speech per embedded chunk until a decision; recheck_every_s:
    the same after a match, when only the last recheck_window_s of it is embedded and scored
    alone, to catch a change of speaker at a fraction of the cost (a handover is a lasting
    change, so 10 s of speech to notice it is soon enough, and rechecks are most of a long
    call's model work); context_s:
    speech before a chunk's new part embedded with it (not counted twice in the evidence);
    keep_s: the most recent speech kept per call."""

    update_every_s: float = 1.0
    recheck_every_s: float = 10.0
    recheck_window_s: float = 3.0
    context_s: float = 0.5
    keep_s: float = 10.0


@dataclass(frozen=True, slots=True)
class Update:
    """A call whose state the last pass changed, with the age of its oldest new frame."""

    session: CallSession
    latency_s: float | None


class CallEngine:
    def __init__(
        self,
        *,
        vad: BatchedVad,
        embedder: Embedder,
        scorer: VoiceScorer,
        policy: DecisionPolicy,
        watchlist: WatchlistMonitor | None = None,
        liveness: Liveness | None = None,
        config: EngineConfig = EngineConfig(),
    ) -> None:
        self.vad = vad
        self.embedder = embedder
        self.scorer = scorer
        self.policy = policy
        self.watchlist = watchlist
        self.liveness = liveness
        self.config = config
        self._streams: dict[str, LivenessStream] = {}

    def process(self, sessions: list[CallSession]) -> list[Update]:
        """Both passes in one go (a call's last audio at its end); the changed calls."""
        heard, due = self.listen(sessions)
        scored = self.score(due)
        changed = {update.session.call_id for update in scored}
        return [u for u in heard if u.session.call_id not in changed] + scored

    def listen(self, sessions: list[CallSession]) -> tuple[list[Update], list[CallSession]]:
        """The cheap pass, on every call with new audio: VAD, speech bookkeeping.

        Returns the calls whose net speech grew, and those now due for model work (`score`),
        which the service runs in a pass of its own so that embedding never holds up the VAD.
        """
        arrivals = [session.take() for session in sessions]
        speech = self.vad.step([session.vad for session in sessions])
        now = time.monotonic()
        heard: list[Update] = []
        due: list[CallSession] = []
        for session, chunk, arrival in zip(sessions, speech, arrivals, strict=True):
            session.add_speech(chunk)
            session.trim_speech(self.config.keep_s)
            if len(chunk):
                heard.append(Update(session, None if arrival is None else now - arrival))
            if self.work_due(session):
                if session.due_since is None:
                    session.due_since = arrival
                due.append(session)
        return heard, due

    def score(self, sessions: list[CallSession]) -> list[Update]:
        """The model pass: liveness, embeddings of new speech, the decision."""
        before = [session.snapshot() for session in sessions]
        for session in sessions:
            if self.liveness is not None and self._checks_voice(session):
                self._liveness(session)
        self._score(sessions)
        now = time.monotonic()
        updates = []
        for session, old in zip(sessions, before, strict=True):
            self._decide(session)
            since, session.due_since = session.due_since, None
            if session.snapshot() != old:
                updates.append(Update(session, None if since is None else now - since))
        return updates

    def work_due(self, session: CallSession) -> bool:
        """Whether `score` has anything to do for this call now."""
        if self._due(session) is not None:
            return True
        if self.liveness is None or not self._checks_voice(session) or session.state in DECIDED:
            return False
        new = (session.speech_samples - session.liveness_fed_samples) / SAMPLE_RATE
        return new >= self.config.update_every_s

    def forget(self, call_id: str) -> None:
        self._streams.pop(call_id, None)

    def _checks_voice(self, session: CallSession) -> bool:
        return session.claim is not None and session.claim.voiceprint is not None

    def _liveness(self, session: CallSession) -> None:
        """Feed the call's liveness stream the speech it has not heard yet."""
        assert self.liveness is not None
        new = session.speech_samples - session.liveness_fed_samples
        if session.state in DECIDED or new <= 0:
            return
        stream = self._streams.get(session.call_id)
        if stream is None:
            stream = self._streams[session.call_id] = self.liveness.new_stream()
        chunk = session.recent_speech(new / SAMPLE_RATE)
        session.liveness_fed_samples = session.speech_samples
        llr = stream.add(resample(chunk, SAMPLE_RATE, self.liveness.sample_rate))
        if llr is not None:
            session.liveness_llr = llr
            session.liveness_at_samples = session.speech_samples

    def _due(self, session: CallSession) -> float | None:
        """Seconds of new speech to embed now, or None when no score is due.

        Until a decision each second of speech is embedded once, a new chunk every
        `update_every_s`; after a match, a sample of every `recheck_every_s`; after other
        decisions, nothing.
        """
        if not self._checks_voice(session) or session.net_speech_s < self.policy.min_speech_s:
            return None
        new = (session.speech_samples - session.embedded_at_samples) / SAMPLE_RATE
        if session.state is VoiceState.MATCH:
            due = new >= self.config.recheck_every_s
            return min(new, self.config.recheck_window_s) if due else None
        if session.state in DECIDED:
            return None
        return new if new >= self.config.update_every_s else None

    def _score(self, sessions: list[CallSession]) -> None:
        due = [(s, new) for s in sessions if (new := self._due(s)) is not None]
        if not due:
            return
        rate = self.embedder.sample_rate
        # Platforms differ in how much of 0-4 kHz they pass; every call is heard through the
        # telephone band (G.712) that voiceprints and calibration were made in. A chunk starts
        # a little before its new speech, so no stretch of speech is cut without context.
        windows = [
            resample(
                band_limit(s.recent_speech(new + self.config.context_s), SAMPLE_RATE),
                SAMPLE_RATE,
                rate,
            )
            for s, new in due
        ]
        embeddings = self.embedder.embed_batch(windows)
        for (session, new), embedding in zip(due, embeddings, strict=True):
            self._use(session, embedding.vector, new)

    def _use(self, session: CallSession, chunk: Vector, seconds: float) -> None:
        """Fold a chunk's embedding into the call's voice evidence and score it."""
        assert session.claim is not None and session.claim.voiceprint is not None
        session.embedded_at_samples = session.speech_samples
        session.voice.add(chunk, seconds)
        test = session.voice.vector if session.state is not VoiceState.MATCH else chunk
        _, llr = self.scorer.score(
            test,
            session.claim.voiceprint,
            customer_id=session.claim.customer_id,
            net_speech_s=session.voice.seconds if test is not chunk else seconds,
            snr_db=session.snr_db(),
        )
        if session.state is VoiceState.MATCH:
            # the latest chunk alone: has someone else taken the phone?
            if llr is not None and llr <= self.policy.reject_llr:
                session.speaker_changed = True
        else:
            session.voice_llr = llr
        if self.watchlist is not None:
            embedding = Embedding(
                self.embedder.embedder_id, self.embedder.version, session.voice.vector, seconds
            )
            if self.watchlist.search(embedding):
                session.watchlist_hit = True

    def _decide(self, session: CallSession) -> None:
        if session.claim is None:
            session.reasons = ("no claimed customer yet",)
            return
        if session.claim.state is not None:
            session.state = session.claim.state
            session.reasons = (session.claim.reason or session.claim.state.value,)
            return
        if session.speaker_changed:
            session.state = VoiceState.MISMATCH
            session.reasons = ("a different speaker took over the call after the match",)
            return
        if session.state in DECIDED:
            return
        verdict = decide(
            self.policy,
            voice_llr=session.voice_llr,
            liveness_llr=session.liveness_llr,
            net_speech_s=session.net_speech_s,
            liveness_expected=self.liveness is not None,
            fusion=self.liveness.fusion if self.liveness else None,
        )
        session.state = verdict.state
        reasons = verdict.reasons
        if session.watchlist_hit:
            reasons = (*reasons, "voice matches a fraud watchlist entry")
        session.reasons = reasons
        if verdict.state in DECIDED:
            session.decided_after_audio_s = round(session.audio_samples / SAMPLE_RATE, 3)
            session.decided_after_speech_s = round(session.net_speech_s, 3)
