"""Streaming resampling against resampling the whole signal: every transport rate, any chunking,
exact lengths, band limits, and no state shared between streams."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import resample_poly

from voiceauth.audio.io import Audio
from voiceauth.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceauth.audio.resample import resample
from voiceauth.audio.stream_resample import StreamResampler
from voiceauth.errors import AudioFormatError

RATES = [8000, 11025, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000]
"""What RTP L16 and AudioSocket's SLIN kinds carry (and 11.025 kHz, an SDP may name any)."""

Pcm = npt.NDArray[np.int16]


def noise(samples: int, seed: int) -> Pcm:
    """Broadband test input: every frequency, so every tap of the filter shows."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(samples) * 4000).astype(np.int16)


def tone(hz: float, rate: int, seconds: float = 0.5) -> Pcm:
    t = np.arange(int(seconds * rate)) / rate
    samples: Pcm = np.rint(8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return samples


def streamed(resampler: StreamResampler, chunks: list[Pcm]) -> Pcm:
    return np.concatenate([*(resampler.feed(chunk) for chunk in chunks), resampler.flush()])


def ragged(pcm: Pcm, seed: int, longest: int = 700) -> list[Pcm]:
    """`pcm` cut at random, with empty and one-sample chunks among the pieces."""
    sizes = np.random.default_rng(seed).integers(2, longest, len(pcm) + 1)
    sizes[::3], sizes[1::3] = 0, 1
    cuts = np.cumsum(sizes)
    return np.split(pcm, cuts[cuts < len(pcm)])


def rms(pcm: npt.NDArray[np.generic]) -> float:
    return float(np.sqrt(np.mean(np.asarray(pcm, np.float64) ** 2)))


@pytest.mark.parametrize("rate", RATES)
def test_frames_give_the_whole_signal_resampled(rate: int) -> None:
    pcm = noise(rate // 2, seed=rate)
    resampler = StreamResampler(rate, 8000)
    frame = round(rate * 0.02)
    out = streamed(resampler, [pcm[i : i + frame] for i in range(0, len(pcm), frame)])
    # the same float64 arithmetic as scipy's over the whole signal: equal sample for sample
    exact = resample_poly(pcm / 32768.0, resampler.up, resampler.down)
    np.testing.assert_array_equal(out, float_to_pcm16(exact))
    # voiceauth's whole-signal resampler rounds through float32: within one step
    whole = float_to_pcm16(resample(pcm16_to_float(pcm), rate, 8000))
    assert len(out) == len(whole) == -(-len(pcm) * 8000 // rate)
    assert np.max(np.abs(out.astype(int) - whole)) <= 1


def test_real_speech_in_20_ms_frames_equals_the_whole_recording(speech_16k: Audio) -> None:
    pcm = float_to_pcm16(speech_16k.samples)
    out = streamed(StreamResampler(16000, 8000), np.split(pcm, np.arange(320, len(pcm), 320)))
    whole = float_to_pcm16(resample(speech_16k.samples, 16000, 8000))
    assert len(out) == len(whole)
    assert np.max(np.abs(out.astype(int) - whole)) <= 1


@pytest.mark.parametrize(("from_rate", "to_rate"), [(44100, 8000), (16000, 8000), (8000, 16000)])
def test_any_chunking_gives_the_same_samples(from_rate: int, to_rate: int) -> None:
    pcm = noise(from_rate // 4, seed=7)
    whole = streamed(StreamResampler(from_rate, to_rate), [pcm])
    chunks = ragged(pcm, seed=from_rate)
    assert any(len(c) == 0 for c in chunks) and any(len(c) == 1 for c in chunks)
    np.testing.assert_array_equal(streamed(StreamResampler(from_rate, to_rate), chunks), whole)
    short = pcm[:2000]
    single = streamed(StreamResampler(from_rate, to_rate), np.split(short, len(short)))
    np.testing.assert_array_equal(single, streamed(StreamResampler(from_rate, to_rate), [short]))


@pytest.mark.parametrize("rate", [11025, 16000, 44100, 48000, 192000])
@pytest.mark.parametrize("samples", [0, 1, 2, 159, 883, 9601])
def test_output_length_after_flush_is_the_input_duration(rate: int, samples: int) -> None:
    resampler = StreamResampler(rate, 8000)
    out = streamed(resampler, ragged(noise(samples, seed=samples), seed=1, longest=300))
    assert len(out) == -(-samples * 8000 // rate)
    assert abs(len(out) - round(samples * 8000 / rate)) <= 1


def test_feed_holds_back_only_half_the_filter() -> None:
    resampler = StreamResampler(44100, 8000)
    made = sum(len(resampler.feed(noise(882, seed=i))) for i in range(50))  # 1 s in 20 ms packets
    assert 8000 - 12 <= made < 8000  # 56 input samples (10 output) wait for their right side
    assert made + len(resampler.flush()) == 8000


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_a_speech_band_tone_keeps_its_level(rate: int) -> None:
    out = streamed(StreamResampler(rate, 8000), ragged(tone(1000, rate), seed=3))
    assert rms(out[200:-200]) == pytest.approx(rms(tone(1000, 8000)), rel=0.01)
    # and its phase: output sample k is input time k / 8000 s
    assert np.max(np.abs(out[200:-200].astype(int) - tone(1000, 8000)[200:-200])) < 20


@pytest.mark.parametrize(("hz", "rate"), [(6000, 16000), (6000, 44100), (7000, 48000)])
def test_what_would_alias_is_stopped_by_40_db(hz: float, rate: int) -> None:
    out = streamed(StreamResampler(rate, 8000), ragged(tone(hz, rate), seed=4))
    assert 20 * np.log10(rms(out) / rms(tone(hz, rate))) < -40


def test_two_streams_share_no_state() -> None:
    first, second = noise(4410, seed=1), tone(440, 44100, 0.1)
    alone = streamed(StreamResampler(44100, 8000), [first])
    a, b = StreamResampler(44100, 8000), StreamResampler(44100, 8000)
    outs: list[list[Pcm]] = [[], []]
    for i in range(0, 4410, 441):
        outs[0].append(a.feed(first[i : i + 441]))
        outs[1].append(b.feed(second[i : i + 441]))
    np.testing.assert_array_equal(np.concatenate([*outs[0], a.flush()]), alone)
    np.testing.assert_array_equal(
        np.concatenate([*outs[1], b.flush()]), streamed(StreamResampler(44100, 8000), [second])
    )


def test_flush_starts_a_new_stream() -> None:
    resampler, pcm = StreamResampler(48000, 8000), noise(9600, seed=5)
    first = streamed(resampler, [pcm])
    np.testing.assert_array_equal(streamed(resampler, [pcm]), first)


def test_equal_rates_pass_through() -> None:
    resampler, pcm = StreamResampler(8000, 8000), tone(300, 8000)
    assert resampler.feed(pcm) is pcm
    assert len(resampler.flush()) == 0


def test_bad_rates_and_samples_are_refused() -> None:
    with pytest.raises(AudioFormatError, match="needs positive rates, got 0 -> 8000 Hz"):
        StreamResampler(0, 8000)
    resampler = StreamResampler(16000, 8000)
    with pytest.raises(AudioFormatError, match=r"takes \(n,\) int16, got float64 \(3,\)"):
        resampler.feed(np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(AudioFormatError, match=r"got int16 \(2, 2\)"):
        resampler.feed(np.zeros((2, 2), np.int16))
