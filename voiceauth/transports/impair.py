"""Network impairments for simulated calls: loss, jitter, reordering, duplication, speed.

A pure schedule: given the number of 20 ms frames, it says which frame goes out when, so every
transport's client impairs the same way and a seed reproduces a run. On reliable transports
(TCP, WebSocket) "loss" drops frames before sending, as a platform's own gap would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voiceauth.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Impairments:
    """loss, reorder, duplicate: probabilities per frame; jitter_ms: uniform extra delay up to
    this; speed: sending pace relative to real time (2.0 = twice as fast, 0 = as fast as
    possible)."""

    loss: float = 0.0
    jitter_ms: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    speed: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("loss", "reorder", "duplicate"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1), got {value}")
        if self.jitter_ms < 0 or self.speed < 0:
            raise ConfigError("jitter_ms and speed must not be negative")


@dataclass(frozen=True, slots=True)
class Send:
    at_s: float
    """Seconds after the call's start to send this frame."""
    index: int
    """Which frame (its sequence position in the recording)."""


def schedule(n_frames: int, frame_s: float, impairments: Impairments) -> list[Send]:
    """When each surviving frame is sent, in sending order.

    A reordered frame is held back by two frame times, so the next ones overtake it.
    """
    rng = np.random.default_rng(impairments.seed)
    pace = 0.0 if impairments.speed == 0 else frame_s / impairments.speed
    sends: list[Send] = []
    for index in range(n_frames):
        if rng.random() < impairments.loss:
            continue
        at = index * pace + rng.uniform(0.0, impairments.jitter_ms / 1000.0)
        if rng.random() < impairments.reorder:
            at += 2 * max(pace, 1e-3)
        sends.append(Send(at, index))
        if rng.random() < impairments.duplicate:
            sends.append(Send(at + 1e-4, index))
    sends.sort(key=lambda send: send.at_s)
    return sends
