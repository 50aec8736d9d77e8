"""One live call's state between the transport's frames and the engine's model work.

Frames arrive on the event loop (`receive`), model work happens in the engine's worker thread
(`take`), so the hand-over is the only shared part and holds a lock. Everything the engine
learns about the call is kept here and read back as a `CallSnapshot`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from voiceauth.audio.pcm import pcm16_to_float
from voiceauth.audio.vad_stream import VadStream
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.embeddings.base import Vector
from voiceauth.fusion.levels import KEYED_ATTEMPTS
from voiceauth.transports.base import SAMPLE_RATE, CallStart


@dataclass
class VoiceEvidence:
    """The duration-weighted sum of a call's chunk embeddings (unit vectors)."""

    total: Vector | None = None
    seconds: float = 0.0

    def add(self, chunk: Vector, seconds: float) -> None:
        weighted = chunk * np.float32(seconds)
        self.total = weighted if self.total is None else self.total + weighted
        self.seconds += seconds

    @property
    def vector(self) -> Vector:
        assert self.total is not None, "no chunk embedded yet"
        norm = float(np.linalg.norm(self.total))
        return (self.total / norm).astype(np.float32) if norm > 0 else self.total


@dataclass
class Claim:
    """The claimed customer and what the store said about them (read once per call)."""

    customer_id: str
    state: VoiceState | None = None
    """NO_CONSENT or NOT_ENROLLED when voice cannot be checked; None while it can."""
    voiceprint: Vector | None = None
    reason: str | None = None


@dataclass(eq=False)
class CallSession:
    start: CallStart
    vad: VadStream
    opened_at: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    claim: Claim | None = None
    state: VoiceState = VoiceState.COLLECTING
    reasons: tuple[str, ...] = ("no claimed customer yet",)
    audio_samples: int = 0
    speech: list[npt.NDArray[np.float32]] = field(default_factory=list)
    speech_samples: int = 0
    stored_samples: int = 0
    speech_power: float = 0.0
    voice_llr: float | None = None
    voice: VoiceEvidence = field(default_factory=VoiceEvidence)
    embedded_at_samples: int = 0
    liveness_llr: float | None = None
    liveness_at_samples: int = 0
    liveness_fed_samples: int = 0
    due_since: float | None = None
    """Arrival of the oldest frame whose effect a model pass has not yet shown."""
    decided_after_audio_s: float | None = None
    decided_after_speech_s: float | None = None
    speaker_changed: bool = False
    watchlist_hit: bool = False
    dtmf: str = ""
    keyed_attempts: int = 0
    keyed_limit: int = KEYED_ATTEMPTS
    """Tries at keying a customer number its service line allows (the level policy's)."""
    keyed: str | None = None
    """The last keypad entry ended by `#` after the claim (a PIN the IVR asked for)."""
    verified_after_s: float | None = None
    ended: bool = False
    end_reason: str | None = None
    _inbox: list[npt.NDArray[np.int16]] = field(default_factory=list)
    _inbox_samples: int = 0
    _first_arrival: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def call_id(self) -> str:
        return self.start.call_id

    def receive(self, pcm: npt.NDArray[np.int16]) -> int:
        """Queue a caller frame (event loop side); returns samples waiting for the engine."""
        with self._lock:
            if self._first_arrival is None:
                self._first_arrival = time.monotonic()
            self._inbox.append(pcm)
            self.audio_samples += len(pcm)
            self._inbox_samples += len(pcm)
            return self._inbox_samples

    @property
    def queued_samples(self) -> int:
        """Caller samples received and not yet taken by the engine."""
        return self._inbox_samples

    def take(self) -> float | None:
        """Move queued frames into the VAD (engine side); returns the oldest frame's arrival."""
        with self._lock:
            chunks, self._inbox, self._inbox_samples = self._inbox, [], 0
            arrival, self._first_arrival = self._first_arrival, None
        if chunks:
            self.vad.push(pcm16_to_float(np.concatenate(chunks)))
        return arrival

    @property
    def net_speech_s(self) -> float:
        return self.speech_samples / SAMPLE_RATE

    def add_speech(self, speech: npt.NDArray[np.float32]) -> None:
        if len(speech):
            self.speech.append(speech)
            self.speech_samples += len(speech)
            self.stored_samples += len(speech)
            self.speech_power += float(np.sum(np.square(speech, dtype=np.float64)))

    def recent_speech(self, seconds: float) -> npt.NDArray[np.float32]:
        """The last `seconds` of net speech at 8 kHz (all of it when there is less)."""
        need = int(seconds * SAMPLE_RATE)
        kept: list[npt.NDArray[np.float32]] = []
        total = 0
        for chunk in reversed(self.speech):
            kept.append(chunk)
            total += len(chunk)
            if total >= need:
                break
        window = np.concatenate(kept[::-1]) if kept else np.zeros(0, np.float32)
        return window[-need:]

    def trim_speech(self, keep_seconds: float) -> None:
        """Forget speech older than the longest window any model looks at (bounded memory);
        done when twice that is stored, so the copy is rare."""
        if self.stored_samples > 2 * keep_seconds * SAMPLE_RATE:
            self.speech = [self.recent_speech(keep_seconds)]
            self.stored_samples = len(self.speech[0])

    def snr_db(self) -> float | None:
        """Speech-to-background power ratio seen so far, None before any background."""
        noise_windows = self.vad.windows - self.vad.speech_windows
        if not self.speech_samples or not noise_windows or self.vad.noise_power <= 0:
            return None
        speech = self.speech_power / self.speech_samples
        noise = self.vad.noise_power / noise_windows
        return float(np.clip(10 * np.log10(max(speech, 1e-12) / noise), 0.0, 60.0))

    def snapshot(self) -> CallSnapshot:
        return CallSnapshot(
            call_id=self.call_id,
            transport=self.start.transport,
            voice_state=self.state,
            ani=self.start.ani,
            dnis=self.start.dnis,
            customer_id=self.claim.customer_id if self.claim else None,
            voice_llr=self.voice_llr,
            liveness_llr=self.liveness_llr,
            net_speech_s=round(self.net_speech_s, 3),
            audio_s=round(self.audio_samples / SAMPLE_RATE, 3),
            reasons=self.reasons,
            decided_after_audio_s=self.decided_after_audio_s,
            decided_after_speech_s=self.decided_after_speech_s,
            speaker_changed=self.speaker_changed,
            watchlist_hit=self.watchlist_hit,
            dtmf=self.dtmf,
            ended=self.ended,
            end_reason=self.end_reason,
            started_at=self.started_at,
            verified_after_s=self.verified_after_s,
        )
