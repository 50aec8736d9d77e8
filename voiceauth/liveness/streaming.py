"""Liveness while speech streams in: the countermeasure on a call's recent speech, on a schedule.

Published detectors need 3-5 s of speech (ARCHITECTURE.md), so the first score comes once
`first_s` of net speech has accumulated; after that a fresh score every `every_s` of new speech
lets the evidence firm up as the call goes on, and each score looks at no more than the last
`window_s` seconds, so the cost per update, and the memory per call, stay bounded however long
the call. A score is mapped to a calibrated LLR (bona fide against spoof, natural log) by a
`scoring.Calibration` fitted for this very countermeasure (feature `cm_score`, model
`cm_id@version`). Pure: no clock, no I/O; the call engine feeds VAD speech and reads the LLR.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceauth.audio.io import validate_pcm
from voiceauth.errors import ConfigError
from voiceauth.liveness.base import Countermeasure
from voiceauth.liveness.gate import CM_SCORE_FEATURE
from voiceauth.scoring.calibration import Calibration


class StreamingLiveness:
    """One call's liveness stream: `add(speech)` returns a new LLR when an update is due.

    speech: (n,) float32 net speech (VAD output) in [-1, 1] at `cm.sample_rate`, in order.
    first_s: speech before the first score; every_s: new speech between scores; window_s: the
    most recent speech scored (at least first_s). A chunk that makes several updates due gives
    one score, of the speech up to its end.
    """

    def __init__(
        self,
        cm: Countermeasure,
        calibration: Calibration,
        *,
        first_s: float = 3.0,
        every_s: float = 2.0,
        window_s: float = 6.0,
    ) -> None:
        if not 0 < first_s <= window_s or every_s <= 0:
            raise ConfigError(
                "streaming liveness needs 0 < first_s <= window_s and every_s > 0, got "
                f"first_s={first_s}, every_s={every_s}, window_s={window_s}"
            )
        first = round(first_s * cm.sample_rate)
        if first < cm.min_samples:
            raise ConfigError(
                f"first_s={first_s} is below what {cm.cm_id} scores at all "
                f"({cm.min_samples / cm.sample_rate:.2f} s)"
            )
        calibration.check_model(f"{cm.cm_id}@{cm.version}")
        self._cm = cm
        self._calibration = calibration
        self._first = first
        self._every = round(every_s * cm.sample_rate)
        self._ring = np.zeros(round(window_s * cm.sample_rate), dtype=np.float32)
        self._total = 0  # samples ever added
        self._scored_at: int | None = None  # self._total at the last score
        self._llr: float | None = None

    @property
    def llr(self) -> float | None:
        """The latest calibrated LLR, None before the first score."""
        return self._llr

    @property
    def net_speech_s(self) -> float:
        """Net speech added so far, in seconds."""
        return self._total / self._cm.sample_rate

    def add(self, speech: npt.NDArray[np.float32]) -> float | None:
        """Take the next speech; score and return the new LLR when an update is due, else None."""
        if len(speech) == 0:
            return None
        samples = validate_pcm(speech, self._cm.sample_rate)
        self._write(samples)
        if self._scored_at is None:
            due = self._total >= self._first
        else:
            due = self._total - self._scored_at >= self._every
        if not due:
            return None
        score = self._cm.score(self._window())
        self._llr = float(self._calibration.llr({CM_SCORE_FEATURE: score}))
        self._scored_at = self._total
        return self._llr

    def _write(self, samples: npt.NDArray[np.float32]) -> None:
        size = len(self._ring)
        tail = samples[-size:]
        start = (self._total + len(samples) - len(tail)) % size
        first = min(len(tail), size - start)
        self._ring[start : start + first] = tail[:first]
        self._ring[: len(tail) - first] = tail[first:]
        self._total += len(samples)

    def _window(self) -> npt.NDArray[np.float32]:
        """The last min(total, window) samples, oldest first."""
        size = len(self._ring)
        if self._total <= size:
            return self._ring[: self._total].copy()
        split = self._total % size
        return np.concatenate([self._ring[split:], self._ring[:split]])
