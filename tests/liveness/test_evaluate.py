"""Countermeasure evaluation as a library: sampling, channel, the report's figures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from voiceauth.data.manifest import ManifestRow
from voiceauth.liveness.evaluate import (
    MIN_NET_SECONDS,
    CmEvalConfig,
    ScoredFile,
    attack_of,
    call_speech,
    channel_audio,
    cm_report,
    family_of,
    operating_points,
    sample_rows,
)


def _row(label: str, dataset: str, attack: str = "", name: str = "x") -> ManifestRow:
    return ManifestRow(Path(f"/{dataset}/{attack}/{name}.wav"), "spk", label, dataset, attack)


def test_sample_is_balanced_seeded_and_covers_every_attack() -> None:
    rows = [_row("bonafide", d, name=str(i)) for d in ("a", "b") for i in range(20)]
    rows += [_row("spoof", "a", k, str(i)) for k in ("k1", "k2", "k3") for i in range(10)]
    chosen = sample_rows(rows, 12, seed=1)
    assert len(chosen) == 12 and chosen == sample_rows(rows, 12, seed=1)
    assert Counter(r.label for r in chosen) == {"bonafide": 6, "spoof": 6}
    assert Counter(r.attack for r in chosen if r.label == "spoof") == {"k1": 2, "k2": 2, "k3": 2}
    assert Counter(r.dataset for r in chosen if r.label == "bonafide") == {"a": 3, "b": 3}
    assert len(sample_rows(rows, 1000, seed=1)) == len(rows)


def test_report_eers_per_attack_against_all_bonafide_and_per_page() -> None:
    scored = [
        ScoredFile(_row("bonafide", "p1", name="b1"), 3.0, 4.0),
        ScoredFile(_row("bonafide", "p1", name="b2"), 1.0, 4.0),
        ScoredFile(_row("bonafide", "p2", name="b3"), 2.0, 4.0),
        ScoredFile(_row("spoof", "p1", "easy"), -5.0, 4.0),
        ScoredFile(_row("spoof", "p2", "hard", "s1"), 2.5, 4.0),
        ScoredFile(_row("spoof", "p2", "hard", "s2"), 0.0, 4.0),
    ]
    report = cm_report(scored)
    assert report["per_attack"]["easy"] == 0.0
    # ROC hull of bona fide {3, 1, 2} vs spoofs {2.5, 0}: from (FAR 1/2, FRR 0) to (0, 2/3);
    # FAR = FRR where x = (1/2 - x) 4/3, x = 2/7.
    assert report["per_attack"]["hard"] == pytest.approx(100 * 2 / 7, abs=0.01)
    assert report["per_attack_n"] == {"easy": 1, "hard": 2}
    # at the one threshold that accepts 90 % of all bona fide (1.0): only the 2.5 passes
    assert report["per_attack_spoof_accept"] == {"easy": 0.0, "hard": 50.0}
    assert 0 < report["cm_eer"] < report["per_attack"]["hard"]
    assert report["per_dataset"] == {"p1": 0.0, "p2": 33.33}  # p2: hull (1/2, 0) to (0, 1)
    assert (report["n_bonafide"], report["n_spoof"]) == (3, 3)


def test_operating_points_by_hand() -> None:
    bonafide = [float(s) for s in range(10)]  # 90 % accepted at threshold 1
    spoof = [-5.0, 0.5, 1.0, 2.5, 9.5] + [-1.0] * 95  # 100 spoofs: 1 may pass
    points = operating_points(bonafide, spoof)
    assert points["spoof_accept_at_90_bonafide"] == 3.0  # 1.0, 2.5, 9.5 >= 1
    assert points["bonafide_accept_at_1_spoof"] == 70.0  # 3..9 above 2.5, only 9.5 spoof is
    assert operating_points([], spoof)["spoof_accept_at_90_bonafide"] is None


def test_families_follow_pages_and_vocoder_copies() -> None:
    assert family_of(_row("spoof", "styletts2_demo", "vits")) == "zero-shot cloning"
    assert family_of(_row("spoof", "lvcvc_demo", "hifigan_copysynth")) == "neural vocoder"
    assert family_of(_row("spoof", "sim_griffinlim", "griffinlim_mel80_32it_copysynth")) == (
        "griffin-lim copy-synthesis"
    )
    assert family_of(_row("spoof", "synth_flite", "flite_slt")) == "debian tts"
    assert family_of(_row("spoof", "elsewhere", "x")) == "other"
    report = cm_report(
        [
            ScoredFile(_row("bonafide", "vits", name="g"), 1.0, 1.0),
            ScoredFile(_row("spoof", "vits", "vits"), 0.0, 1.0),
            ScoredFile(_row("spoof", "hifigan", "hifigan_copysynth"), 2.0, 1.0),
        ]
    )
    assert report["per_family"] == {"neural vocoder": 50.0, "text-to-speech": 0.0}  # ROCCH caps
    assert report["per_family_n"] == {"neural vocoder": 1, "text-to-speech": 1}


def test_unnamed_attacks_are_grouped_by_dataset() -> None:
    assert attack_of(_row("spoof", "page", "")) == "unnamed:page"


def test_telephony_channel_gives_band_limited_audio_at_the_detector_rate(
    shared_rows: list[ManifestRow],
) -> None:
    row = next(r for r in shared_rows if r.dataset == "autovc_vctk_samples")
    wide = channel_audio(row, sample_rate=16_000, config=CmEvalConfig(channel="wideband"), index=0)
    tel = channel_audio(row, sample_rate=16_000, config=CmEvalConfig(), index=0)
    assert abs(len(tel) - len(wide)) <= 2 and tel.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(tel)) ** 2
    above_4k = spectrum[int(len(spectrum) * 4200 / 8000) :].sum() / spectrum.sum()
    assert above_4k < 1e-3
    cut = channel_audio(row, sample_rate=16_000, config=CmEvalConfig(max_seconds=1.5), index=0)
    assert len(cut) == 24_000


def test_net_speech_drops_the_pauses_a_call_would_not_feed_the_detector(
    shared_rows: list[ManifestRow],
) -> None:
    row = next(r for r in shared_rows if r.dataset == "autovc_vctk_samples")
    heard = channel_audio(row, sample_rate=8_000, config=CmEvalConfig(), index=0)
    pause = np.zeros(8_000, dtype=np.float32)
    padded = np.concatenate([pause, heard, pause])
    speech = call_speech(padded, 8_000)
    assert MIN_NET_SECONDS * 8_000 <= len(speech) <= len(heard)
    net = channel_audio(row, sample_rate=8_000, config=CmEvalConfig(net_speech=True), index=0)
    assert np.array_equal(net, call_speech(heard, 8_000))
    # a file with too little speech to cut is kept whole, so every file keeps a score
    hiss = (1e-4 * np.random.default_rng(0).standard_normal(16_000)).astype(np.float32)
    assert np.array_equal(call_speech(hiss, 8_000), hiss)
