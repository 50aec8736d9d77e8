"""Spoofing-aware evaluation: spoof trials, the SASV figures, and the countermeasure stage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from voiceauth.audio.vad import SileroVad
from voiceauth.data.manifest import ManifestRow
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.evaluation.protocol import FileInfo, build_trials, speaker_fold
from voiceauth.evaluation.run import EvalConfig, EvalResult, evaluate
from voiceauth.evaluation.sasv import spoof_figures
from voiceauth.evaluation.score import calibrate_by_fold
from voiceauth.fusion.model import SpoofAwareFusion


def files_of(spec: dict[str, int]) -> list[FileInfo]:
    return [FileInfo(f"{s}/{i}", s, 5.0) for s, n in spec.items() for i in range(n)]


def test_spoofs_attack_the_imitated_speakers_full_enrolment_in_its_fold() -> None:
    files = files_of({f"s{i}": 3 for i in range(8)} | {"solo": 1})
    spoofs = [
        FileInfo("x/0", "s1", 4.0),
        FileInfo("x/1", "solo", 4.0),
        FileInfo("x/2", "ghost", 4.0),
    ]
    trials = build_trials(files, spoofs=spoofs, n_folds=2, seed=1)
    assert trials.spoof.sum() == 2  # nobody enrolled as "ghost": no trial
    assert not (trials.target & trials.spoof).any()
    rows = np.flatnonzero(trials.spoof)
    assert [int(trials.test[i]) for i in rows] == [len(files), len(files) + 1]
    for i, speaker in zip(rows, ("s1", "solo"), strict=True):
        enrolment = trials.enrolments[trials.enrol[i]]
        assert enrolment.speaker == speaker
        assert len(enrolment.files) == (3 if speaker == "s1" else 1)  # all their files
        assert trials.fold[i] == speaker_fold(speaker, 2, 1)
    # the bona fide protocol is unchanged by the spoofs
    plain = build_trials(files, n_folds=2, seed=1)
    np.testing.assert_array_equal(plain.test, trials.test[~trials.spoof])
    np.testing.assert_array_equal(plain.enrol, trials.enrol[~trials.spoof])


def test_spoof_figures_by_hand() -> None:
    # speaker a: targets 5, 6; spoofs 4, 7 (one of two above the lowest target)
    # speaker b: targets 9; no spoofs; non-targets 0, 1, 2, 8
    scores = [5.0, 6.0, 4.0, 7.0, 9.0, 0.0, 1.0, 2.0, 8.0]
    target = [1, 1, 0, 0, 1, 0, 0, 0, 0]
    spoof = [0, 0, 1, 1, 0, 0, 0, 0, 0]
    speaker = ["a", "a", "a", "a", "b", "b", "b", "b", "b"]
    figures = spoof_figures(scores, target, spoof, speaker, threshold=5.5)
    assert figures["n_spf_speakers"] == 1
    assert (figures["n_spf_target"], figures["n_spf_spoof"]) == (2, 2)
    # targets {5, 6} against spoofs {4, 7}: ROCCH EER 1/3 (hull through (0.5, 0) and (0, 0.5)...)
    assert figures["spf_eer"] == pytest.approx(100 * 1 / 3)
    assert figures["spoof_accept_rate"] == pytest.approx(50.0)  # 7 >= 5.5, 4 < 5.5
    assert figures["fnmr_at_threshold"] == pytest.approx(100 / 3)  # 5 < 5.5
    assert figures["fmr_at_threshold"] == pytest.approx(25.0)  # 8 of 0, 1, 2, 8
    assert 0 < figures["sasv_eer"] < 50


def test_voice_calibration_never_fits_on_spoofs() -> None:
    rng = np.random.default_rng(0)
    n, n_spoof = 400, 40
    target = np.arange(n) < 80
    spoof = np.arange(n) >= n - n_spoof
    columns = {
        "score": np.where(target, rng.normal(0.5, 0.2, n), rng.normal(0.2, 0.2, n)),
        "target": target.astype(np.int64),
        "spoof": spoof.astype(np.int64),
        "test_speech_s": rng.uniform(2, 8, n),
        "test_snr_db": rng.uniform(10, 30, n),
        "fold": rng.integers(0, 2, n),
    }
    columns["score"][spoof] = 0.9  # clones score like the best targets
    llr = calibrate_by_fold(columns, score_column="score", model="m@1", created="2026-11-23")
    bona_fide = {k: v[~spoof] for k, v in columns.items()}
    alone = calibrate_by_fold(bona_fide, score_column="score", model="m@1", created="2026-11-23")
    np.testing.assert_allclose(llr[~spoof], alone)  # spoofs changed no fit
    assert np.all(llr[spoof] > np.median(llr[target]))  # but they are calibrated


class LoudnessCm:
    """A stand-in countermeasure (log energy): real scores, no model to ship with the tests."""

    cm_id = "loudness"
    version = "0"
    sample_rate = 16000
    min_samples = 8000

    def score(self, samples: npt.NDArray[np.float32]) -> float:
        return float(np.log(np.mean(np.square(samples)) + 1e-9))

    def score_batch(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[float]:
        return [self.score(s) for s in batch]


@pytest.fixture(scope="module")
def clone_result(shared_rows: list[ManifestRow], ge2e: Ge2eEmbedder, vad: SileroVad) -> EvalResult:
    """Five YourTTS speakers (5 genuine files, 3 clones each) and 10 LibriSpeech impostors."""
    yourtts = [r for r in shared_rows if r.dataset == "yourtts_zeroshot_clones"]
    speakers = sorted({r.speaker for r in yourtts})[:5]
    rows = [r for r in yourtts if r.speaker in speakers and r.label == "bonafide"]
    for speaker in speakers:
        rows += [r for r in yourtts if r.speaker == speaker and r.label == "spoof"][:3]
    rows += [r for r in shared_rows if r.dataset == "resemblyzer_librispeech"][:10]
    config = EvalConfig(channel="telephony", test_seconds=4.0, asnorm_top_n=20)
    return evaluate(rows, ge2e, vad, config, created="2026-11-23", cm=LoudnessCm())


def test_clones_fool_the_voice_match_on_real_speech(clone_result: EvalResult) -> None:
    report = clone_result.report
    assert report["n_spoof"] == 15 and report["n_spoof_ignored"] == 0
    assert report["n_spf_speakers"] == 5
    # telling a clone from the customer is far harder than telling an impostor
    assert report["spf_eer"] > 2 * report["eer"]
    assert report["spoof_accept_rate"] >= report["fmr_at_threshold"]
    assert report["fmr_at_threshold"] <= 1.0
    assert report["operating_point"]["source"].startswith("FMR 0.01")
    assert report["sasv_eer"] >= report["eer"] - 1e-9
    # spoof trials are kept apart from the bona fide ones
    assert clone_result.spoof_trials is not None
    assert len(clone_result.spoof_trials["llr"]) == 15
    assert report["n_target"] + report["n_nontarget"] == len(clone_result.trials["llr"])


def test_countermeasure_stage_and_shipped_fits(clone_result: EvalResult, tmp_path: Path) -> None:
    with_cm = clone_result.report["with_cm"]
    assert with_cm["cm"] == "loudness@0"
    assert with_cm["n_cm_spoof"] == 15
    for key in ("spf_eer", "sasv_eer", "spoof_accept_rate", "cm_eer", "operating_point"):
        assert key in with_cm
    for shares in with_cm["outcomes"].values():
        assert sum(shares.values()) == pytest.approx(100.0)
    assert set(with_cm["folds"]) == {"0", "1"}
    fusion = clone_result.fusion
    assert fusion is not None and fusion.cm_model == "loudness@0"
    assert fusion.voice_model == clone_result.report["embedder"]
    fusion.save(tmp_path / "fusion.json")
    assert SpoofAwareFusion.load(tmp_path / "fusion.json") == fusion
    calibration = clone_result.cm_calibration
    assert calibration is not None and calibration.model == "loudness@0"
    assert calibration.features == ("cm_score",)
