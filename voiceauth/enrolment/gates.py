"""Enrolment gates: pure functions of numbers, each failure a `Rejection` naming its outcome.

A voiceprint is the reference every later call is compared with, so it must come from enough
clean speech of one talker only: too little speech gives an unstable mean, noise and clipping
bias the embedding, and a second voice (the agent, a relative, a fraudster coaching the
customer) would make the voiceprint accept two people.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from voiceauth.enrolment.outcome import EnrolmentOutcome, Rejection
from voiceauth.enrolment.policy import EnrolmentPolicy

Vector = npt.NDArray[np.float32]


def check_speech(net_speech_s: float, required_s: float) -> Rejection | None:
    """`insufficient_speech` below the required net speech (seconds)."""
    if net_speech_s < required_s:
        return Rejection(
            EnrolmentOutcome.INSUFFICIENT_SPEECH,
            f"net speech {net_speech_s:.1f} s < {required_s:.1f} s required",
        )
    return None


def check_quality(
    snr_db: float, clipping_ratio: float, policy: EnrolmentPolicy
) -> Rejection | None:
    """`low_quality` when the SNR (dB) is below, or the clipped share above, the policy's bound."""
    if snr_db < policy.min_snr_db:
        return Rejection(
            EnrolmentOutcome.LOW_QUALITY,
            f"SNR {snr_db:.1f} dB < {policy.min_snr_db:.1f} dB required",
        )
    if clipping_ratio > policy.max_clipping_ratio:
        return Rejection(
            EnrolmentOutcome.LOW_QUALITY,
            f"clipping {clipping_ratio:.2%} > {policy.max_clipping_ratio:.2%} allowed",
        )
    return None


def speech_windows(segments: Sequence[Vector], *, window: int) -> list[Vector]:
    """Cut net speech into consistency windows of about `window` samples each.

    Short pieces (VAD chunks of a call) are joined with the following ones until a window is
    full; long pieces (a whole recording) are split. A remainder shorter than a window joins
    the last window, so every window has at least `window` samples when the total allows it.
    Windows never need to respect piece boundaries: a talker change inside one only makes
    that window less like the others, which is what the gate looks for.
    """
    if window <= 0:
        raise ValueError(f"window must be positive, got {window}")
    pieces = [np.asarray(s, dtype=np.float32) for s in segments if len(s)]
    if not pieces:
        return []
    speech = np.concatenate(pieces)
    count = max(len(speech) // window, 1)
    bounds = [k * window for k in range(count)] + [len(speech)]
    return [speech[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def leave_one_out_cosines(vectors: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Cosine of each row with the mean of all other rows (rows length-normalised first).

    vectors: (k, d), k >= 2. One talker gives high values everywhere; a window of another
    talker scores low against the rest, and when two talkers share the windows about evenly
    every window's mean-of-the-others is a blend, which lowers them all.
    """
    arr = np.asarray(vectors, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(f"need (k >= 2, d) vectors, got shape {arr.shape}")
    unit = arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
    others = unit.sum(axis=0, keepdims=True) - unit
    others /= np.maximum(np.linalg.norm(others, axis=1, keepdims=True), 1e-12)
    return np.asarray((unit * others).sum(axis=1), dtype=np.float64)


def two_group_cosine(vectors: npt.ArrayLike, *, iterations: int = 10) -> float:
    """Cosine between the means of the two groups the windows split into most naturally.

    vectors: (k, d), k >= 2. The leave-one-out check misses two talkers who share the
    windows about evenly (every mean-of-the-others is then a blend, close to both); splitting
    the windows in two (2-means on unit vectors, seeded with the least similar pair) finds
    them: one talker's halves have nearly the same mean, two talkers' do not.
    """
    arr = np.asarray(vectors, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(f"need (k >= 2, d) vectors, got shape {arr.shape}")
    unit = arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit.T
    a, b = np.unravel_index(int(np.argmin(sims)), sims.shape)
    centres = unit[[a, b]]
    groups = np.zeros(len(unit), dtype=bool)
    for _ in range(iterations):
        groups = (unit @ centres[1]) > (unit @ centres[0])
        if groups.all() or not groups.any():
            return 1.0
        centres = np.stack([unit[~groups].mean(axis=0), unit[groups].mean(axis=0)])
    c0, c1 = centres
    return float(c0 @ c1 / max(float(np.linalg.norm(c0) * np.linalg.norm(c1)), 1e-12))


def check_split(split_cosine: float, threshold: float) -> Rejection | None:
    """`inconsistent_speaker` when the two window groups' means differ (see two_group_cosine)."""
    if split_cosine < threshold:
        return Rejection(
            EnrolmentOutcome.INCONSISTENT_SPEAKER,
            f"the speech splits into two groups of windows that do not match "
            f"(cosine {split_cosine:.2f} < {threshold:.2f}): two talkers?",
        )
    return None


def check_consistency(cosines: npt.ArrayLike, threshold: float) -> Rejection | None:
    """`inconsistent_speaker` when any window's leave-one-out cosine is below `threshold`."""
    values = np.asarray(cosines, dtype=np.float64)
    if values.size == 0:
        return None
    worst = int(np.argmin(values))
    if values[worst] < threshold:
        return Rejection(
            EnrolmentOutcome.INCONSISTENT_SPEAKER,
            f"speech window {worst + 1} of {values.size} does not match the others "
            f"(cosine {values[worst]:.2f} < {threshold:.2f}): more than one talker?",
        )
    return None
