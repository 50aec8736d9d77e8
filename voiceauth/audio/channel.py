"""Telephone-channel simulator: what a call does to wideband speech, for evaluation and training.

Models trained on 16 kHz wideband speech lose accuracy on calls; evaluating (and augmenting)
through this channel shows by how much. The chain is the classic narrowband PSTN/VoIP path:
telephone band 300-3400 Hz (ITU-T G.712), 8 kHz sampling, G.711 companding, and optionally
lost 20 ms RTP packets (the default G.711 packetisation, RFC 3551 §4.5).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfiltfilt

from voiceauth.audio.g711 import alaw_decode, alaw_encode, mulaw_decode, mulaw_encode
from voiceauth.audio.io import Audio
from voiceauth.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceauth.audio.resample import resample

TELEPHONE_RATE = 8000
TELEPHONE_BAND_HZ = (300.0, 3400.0)
"""G.712 channel pass band."""
BAND_FILTER_ORDER = 4
"""Butterworth order per band edge; applied forward and backward, so 8 in effect."""
PACKET_S = 0.020
"""RTP packet duration: 160 samples of G.711 at 8 kHz."""

Codec = Literal["mulaw", "alaw"]
Channel = Literal["wideband", "telephony"]
"""How evaluations hear audio: as recorded, or through `telephone_channel`."""
CHANNELS: tuple[Channel, ...] = ("wideband", "telephony")
CODECS: tuple[Codec, ...] = ("mulaw", "alaw")


def band_limit(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float32]:
    """Zero-phase Butterworth band-pass to the telephone band, so segment times do not shift."""
    sos = butter(BAND_FILTER_ORDER, TELEPHONE_BAND_HZ, btype="bandpass", fs=rate, output="sos")
    if len(samples) < 2:
        return samples
    padlen = min(3 * (2 * len(sos) + 1), len(samples) - 1)
    return np.asarray(sosfiltfilt(sos, samples, padlen=padlen), dtype=np.float32)


def _companding_round_trip(
    samples: npt.NDArray[np.float32], codec: Codec
) -> npt.NDArray[np.float32]:
    """Quantise to 16-bit PCM (clipping as a line card would), encode and decode with G.711."""
    pcm = float_to_pcm16(samples)
    decoded = mulaw_decode(mulaw_encode(pcm)) if codec == "mulaw" else alaw_decode(alaw_encode(pcm))
    return pcm16_to_float(decoded)


def _drop_packets(
    samples: npt.NDArray[np.float32], packet_loss: float, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Zero each 20 ms packet (the last may be partial) independently with packet_loss."""
    packet = round(PACKET_S * TELEPHONE_RATE)
    count = -(-len(samples) // packet)
    lost = rng.random(count) < packet_loss
    keep = np.repeat(~lost, packet)[: len(samples)]
    return np.where(keep, samples, np.float32(0.0)).astype(np.float32)


def telephone_channel(
    audio: Audio,
    *,
    codec: Codec = "mulaw",
    packet_loss: float = 0.0,
    rng: np.random.Generator | None = None,
) -> Audio:
    """Pass audio through a simulated G.711 telephone call; returns 8 kHz Audio.

    Resamples to 8 kHz first (cheaper, and the band lies well inside 4 kHz), band-limits to
    300-3400 Hz, companding round trip with codec, then loses 20 ms packets independently with
    probability packet_loss in [0, 1). Lost packets are concealed by silence (zeros), the worst
    case: no G.711 Appendix I packet-loss concealment is simulated. packet_loss > 0 needs rng,
    so that which packets are lost is reproducible.
    """
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; valid: {', '.join(CODECS)}")
    if not 0.0 <= packet_loss < 1.0:
        raise ValueError(f"packet_loss must be in [0, 1), got {packet_loss}")
    if packet_loss > 0.0 and rng is None:
        raise ValueError(
            "packet_loss > 0 needs rng (np.random.default_rng(seed)) so that losses are "
            "reproducible"
        )
    narrow = resample(audio.samples, audio.sample_rate, TELEPHONE_RATE)
    coded = _companding_round_trip(band_limit(narrow, TELEPHONE_RATE), codec)
    if packet_loss > 0.0 and rng is not None:
        coded = _drop_packets(coded, packet_loss, rng)
    return Audio(samples=coded, sample_rate=TELEPHONE_RATE)


def through(audio: Audio, channel: Channel) -> Audio:
    """Audio as `channel` hears it: recordings that make or check voiceprints pass the same
    channel as the calls they are compared with, since scores and calibrations are per channel."""
    return telephone_channel(audio) if channel == "telephony" else audio
