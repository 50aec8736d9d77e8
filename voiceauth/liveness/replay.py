"""Simulated replay: a genuine recording played through a loudspeaker into a room and re-recorded.

A replay attack (ASVspoof 2019 PA, 2021 PA/DF) leaves three traces that survive a phone call:
the loudspeaker's response (small drivers lose the bass below a few hundred hertz and have a
resonance in the mid band; they distort softly when driven hard), the room's reverberation
(an impulse response whose tail decays by 60 dB in RT60 seconds), and the re-recording
device's noise floor. Each is simulated here, with parameters drawn per clip by `random_replay`
so that the detector meets many loudspeakers and rooms, not one.

The room impulse response is synthesised, as in the statistical room model (Schroeder; the
exponentially decaying Gaussian noise tail of Lehmann & Johansson), with a direct path and a
few discrete early reflections: no measured responses are available offline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, fftconvolve, lfilter, sosfilt

from voiceauth.audio.io import Audio

Samples = npt.NDArray[np.float32]
LN_1000 = np.log(1000.0)
"""60 dB of energy decay is a factor 1000 in amplitude: the RT60 definition."""


@dataclass(frozen=True, slots=True)
class Loudspeaker:
    """low_cut_hz: -3 dB corner of the driver's bass roll-off (2nd-order high-pass);
    resonance_hz / resonance_db / resonance_q: a peaking resonance (RBJ biquad);
    drive: soft-clipping gain (tanh), 1 = nearly linear."""

    low_cut_hz: float = 300.0
    resonance_hz: float = 1500.0
    resonance_db: float = 8.0
    resonance_q: float = 2.0
    drive: float = 1.5


@dataclass(frozen=True, slots=True)
class Room:
    """rt60_s: reverberation time; direct_to_reverb_db: energy of the direct path over the
    tail (lower = farther from the loudspeaker)."""

    rt60_s: float = 0.4
    direct_to_reverb_db: float = 3.0


@dataclass(frozen=True, slots=True)
class Replay:
    """One replay set-up: loudspeaker, room, and the re-recording noise floor (SNR in dB)."""

    loudspeaker: Loudspeaker
    room: Room
    snr_db: float = 30.0


def peaking_filter(
    centre_hz: float, gain_db: float, q: float, rate: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(b, a) of a peaking-EQ biquad (R. Bristow-Johnson, "Audio EQ Cookbook")."""
    amplitude = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * centre_hz / rate
    alpha = np.sin(w0) / (2.0 * q)
    b = np.array([1 + alpha * amplitude, -2 * np.cos(w0), 1 - alpha * amplitude])
    a = np.array([1 + alpha / amplitude, -2 * np.cos(w0), 1 - alpha / amplitude])
    return b / a[0], a / a[0]


def loudspeaker_response(samples: Samples, rate: int, speaker: Loudspeaker) -> Samples:
    """Bass roll-off, mid-band resonance and soft clipping of a small loudspeaker."""
    sos = butter(2, speaker.low_cut_hz, btype="highpass", fs=rate, output="sos")
    x = sosfilt(sos, samples.astype(np.float64))
    b, a = peaking_filter(
        min(speaker.resonance_hz, 0.45 * rate), speaker.resonance_db, speaker.resonance_q, rate
    )
    x = lfilter(b, a, x)
    peak = float(np.max(np.abs(x))) or 1.0
    x = np.tanh(speaker.drive * x / peak) / np.tanh(speaker.drive) * peak
    return np.asarray(x, dtype=np.float32)


def room_impulse_response(room: Room, rate: int, rng: np.random.Generator) -> Samples:
    """A synthetic RIR: unit direct path, three early reflections, exponential noise tail."""
    length = max(int(room.rt60_s * rate), 2)
    t = np.arange(length) / rate
    tail = rng.standard_normal(length) * np.exp(-LN_1000 * t / room.rt60_s)
    onset = int(0.002 * rate)
    tail[:onset] = 0.0
    tail_energy = float(np.sum(tail**2)) or 1.0
    tail *= np.sqrt(10.0 ** (-room.direct_to_reverb_db / 10.0) / tail_energy)
    for delay_ms in rng.uniform(3.0, 25.0, 3):
        index = min(int(delay_ms * rate / 1000.0), length - 1)
        tail[index] += rng.uniform(0.2, 0.6) * rng.choice([-1.0, 1.0])
    tail[0] = 1.0
    return np.asarray(tail, dtype=np.float32)


def replay(audio: Audio, setup: Replay, rng: np.random.Generator) -> Audio:
    """audio as re-recorded after `setup`, at the same rate and length, peak-normalised to the
    input's peak (a replay attacker sets the level anyway)."""
    rate = audio.sample_rate
    played = loudspeaker_response(audio.samples, rate, setup.loudspeaker)
    rir = room_impulse_response(setup.room, rate, rng)
    room = fftconvolve(played, rir)[: len(played)]
    noise = rng.standard_normal(len(room))
    power = float(np.mean(room**2)) or 1e-12
    room = room + noise * np.sqrt(power / 10.0 ** (setup.snr_db / 10.0))
    peak_in = float(np.max(np.abs(audio.samples))) or 1.0
    peak_out = float(np.max(np.abs(room))) or 1.0
    return Audio(np.asarray(room * (peak_in / peak_out), dtype=np.float32), rate)


def random_replay(rng: np.random.Generator) -> Replay:
    """A replay set-up drawn from ranges of phone and laptop speakers, rooms and recorders."""
    return Replay(
        loudspeaker=Loudspeaker(
            low_cut_hz=float(rng.uniform(150.0, 600.0)),
            resonance_hz=float(rng.uniform(700.0, 3200.0)),
            resonance_db=float(rng.uniform(3.0, 12.0)),
            resonance_q=float(rng.uniform(0.7, 4.0)),
            drive=float(rng.uniform(0.5, 3.0)),
        ),
        room=Room(
            rt60_s=float(rng.uniform(0.15, 0.9)),
            direct_to_reverb_db=float(rng.uniform(-3.0, 12.0)),
        ),
        snr_db=float(rng.uniform(15.0, 40.0)),
    )
