"""`EnrolmentPolicy`: the thresholds of the enrolment gates, each with where it came from."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from voiceauth.errors import ConfigError

DEFAULT_CONSISTENCY = 0.78
# tuned on autovc_vctk_samples + resemblyzer_librispeech + yourtts bona fide (229 speakers,
# GE2E, 3 s windows of VAD speech, 7 a set), 2026-11-23, benchmarks/enrolment_consistency.py:
# lowest window of one-talker sets min 0.788 / 1 % 0.820; a second talker's window 99 % 0.755,
# max 0.811; half/half mixes 99 % 0.799. Same-session speech, so genuine values are optimistic:
# retune on telephone enrolments.
DEFAULT_SPLIT = 0.78
# tuned on the same sets, date and script (two_group_cosine of 7-window sets): one talker
# min 0.788 / 1 % 0.820; half/half mixes of two talkers 99 % 0.762, max 0.792.
DEFAULT_REFINE_COSINE = 0.70
# a guard, not tuned: a whole call against the voiceprint crosses sessions and handsets and
# scores lower than same-session windows; the call was verified by the caller's policy anyway.


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolmentPolicy:
    """Gate thresholds for enrolment and refinement.

    min_net_speech_s: net speech an enrolment needs (ARCHITECTURE: 20 s for a stable print).
    min_snr_db / max_clipping_ratio: worst recording allowed (speech-to-noise dB; share of
    full-scale samples). consistency_threshold: lowest leave-one-out cosine a speech window
    may have against the others' mean; split_threshold: lowest cosine between the means of
    the two groups the windows split into (catches two talkers sharing the windows evenly,
    which the leave-one-out check misses); window_s: window length for that check (GE2E needs
    about 3 s for a usable per-window embedding). Refinement: a verified call of at least
    refine_min_speech_s whose embedding has at least refine_min_cosine with the voiceprint
    moves it by at most max_refine_share of the new mean, and the voiceprint's weight (seconds)
    is capped at max_weight_s so that it keeps following the voice as it ages.
    """

    min_net_speech_s: float = 20.0
    min_snr_db: float = 10.0
    max_clipping_ratio: float = 0.01
    consistency_threshold: float = DEFAULT_CONSISTENCY
    split_threshold: float = DEFAULT_SPLIT
    window_s: float = 3.0
    refine_min_speech_s: float = 8.0
    refine_min_cosine: float = DEFAULT_REFINE_COSINE
    max_refine_share: float = 0.25
    max_weight_s: float = 180.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not math.isfinite(value):
                raise ConfigError(f"enrolment policy {f.name}={value!r} is not a finite number")
        positive = ("min_net_speech_s", "window_s", "refine_min_speech_s", "max_weight_s")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"enrolment policy {name} must be > 0")
        for name in ("max_clipping_ratio", "max_refine_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"enrolment policy {name} must be in [0, 1]")
        for name in ("consistency_threshold", "split_threshold", "refine_min_cosine"):
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"enrolment policy {name} must be a cosine in [-1, 1]")
        if self.max_weight_s < self.min_net_speech_s:
            raise ConfigError("enrolment policy max_weight_s must be >= min_net_speech_s")
