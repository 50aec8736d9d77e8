from __future__ import annotations

import numpy as np
import pytest

from voiceauth.audio.channel import telephone_channel
from voiceauth.audio.g711 import ALAW_DECODE_TABLE, MULAW_DECODE_TABLE
from voiceauth.audio.io import Audio
from voiceauth.audio.pcm import float_to_pcm16

PACKET = 160  # 20 ms at 8 kHz


def _white_noise(seconds: float, rate: int, level: float = 0.1, seed: int = 11) -> Audio:
    noise = level * np.random.default_rng(seed).standard_normal(round(seconds * rate))
    return Audio(noise.astype(np.float32), rate)


def _band_share(samples: np.ndarray, rate: int, low: float, high: float) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    frequency = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(power[(frequency >= low) & (frequency < high)].sum() / power.sum())


def test_output_is_8khz_telephone_band() -> None:
    wide = _white_noise(4.0, 16000)  # flat from 0 to 8 kHz
    narrow = telephone_channel(wide)
    assert narrow.sample_rate == 8000  # nothing above 4 kHz can remain
    assert narrow.samples.dtype == np.float32
    assert narrow.duration_s == pytest.approx(wide.duration_s)
    assert _band_share(narrow.samples, 8000, 300, 3400) > 0.95
    assert _band_share(narrow.samples, 8000, 0, 200) < 0.005
    assert _band_share(narrow.samples, 8000, 3700, 4001) < 0.005


@pytest.mark.parametrize(
    ("codec", "table"), [("mulaw", MULAW_DECODE_TABLE), ("alaw", ALAW_DECODE_TABLE)]
)
def test_samples_are_g711_levels(speech_16k: Audio, codec: str, table: np.ndarray) -> None:
    narrow = telephone_channel(speech_16k, codec=codec)  # type: ignore[arg-type]
    levels = np.unique(float_to_pcm16(narrow.samples))
    assert np.isin(levels, table).all()
    assert len(levels) > 100


def test_8khz_input_is_band_limited_too(digit_8k: Audio) -> None:
    narrow = telephone_channel(digit_8k)
    assert len(narrow.samples) == len(digit_8k.samples)
    assert _band_share(narrow.samples, 8000, 0, 200) < _band_share(digit_8k.samples, 8000, 0, 200)


def test_packet_loss_zeroes_whole_packets_at_the_expected_rate() -> None:
    audio = _white_noise(20.0, 8000, level=0.3)  # 1000 packets, never silent by itself
    lossy = telephone_channel(audio, packet_loss=0.2, rng=np.random.default_rng(5))
    packets = lossy.samples.reshape(-1, PACKET)
    silent = np.all(packets == 0.0, axis=1)
    assert silent.mean() == pytest.approx(0.2, abs=0.04)  # binomial sd 0.013
    assert np.count_nonzero(packets[~silent] == 0.0, axis=1).max() < PACKET // 4
    again = telephone_channel(audio, packet_loss=0.2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(again.samples, lossy.samples)


def test_no_packet_loss_by_default() -> None:
    packets = telephone_channel(_white_noise(2.0, 8000, level=0.3)).samples.reshape(-1, PACKET)
    assert not np.all(packets == 0.0, axis=1).any()


@pytest.mark.parametrize("loss", [-0.1, 1.0, float("nan")])
def test_packet_loss_must_be_a_probability_below_one(loss: float) -> None:
    with pytest.raises(ValueError, match=r"packet_loss must be in \[0, 1\), got"):
        telephone_channel(_white_noise(0.1, 8000), packet_loss=loss, rng=np.random.default_rng())


def test_packet_loss_needs_an_rng() -> None:
    with pytest.raises(ValueError, match="packet_loss > 0 needs rng"):
        telephone_channel(_white_noise(0.1, 8000), packet_loss=0.1)


def test_unknown_codec_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown codec 'g729'; valid: mulaw, alaw"):
        telephone_channel(_white_noise(0.1, 8000), codec="g729")  # type: ignore[arg-type]
