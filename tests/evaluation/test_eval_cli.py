"""`voiceauth eval` end to end on real speech, as a user runs it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from voiceauth.scoring.trials import read_trials_csv

KEYS = ("eer", "min_dcf", "cllr", "fnmr_at_fmr_1", "fnmr_at_fmr_0_1", "n_target", "n_nontarget")


def test_report_has_every_figure(wideband_report: dict) -> None:
    for key in KEYS:
        assert key in wideband_report
    assert wideband_report["n_target"] > 50
    assert wideband_report["n_nontarget"] > 20 * wideband_report["n_target"]
    assert set(wideband_report["stages"]) == {"cosine", "asnorm", "calibrated"}
    assert wideband_report["embedder"].startswith("ge2e@")


def test_ge2e_separates_real_speakers(wideband_report: dict) -> None:
    assert wideband_report["eer"] < 5.0
    assert wideband_report["stages"]["cosine"]["eer"] < 10.0
    # calibrated LLRs carry information (an uninformative LLR has Cllr 1 bit)
    assert wideband_report["cllr"] < 0.5
    assert wideband_report["fnmr_at_fmr_1"] < 30.0


def test_broken_rows_are_counted_and_spoofs_kept_apart(wideband_report: dict) -> None:
    # the silent file, the truncated one, and a few real clips with under 1 s of speech
    assert wideband_report["skipped_reasons"]["unreadable audio"] == 1
    assert wideband_report["skipped_reasons"]["insufficient net speech"] >= 1
    assert sum(wideband_report["skipped_reasons"].values()) == wideband_report["n_skipped"]
    # the one spoof imitates a speaker of the manifest: a spoof trial, not a bona fide one
    assert wideband_report["n_spoof_ignored"] == 0
    assert wideband_report["n_spoof"] == 1
    assert wideband_report["spoof_scores_csv"].endswith(".spoof-scores.csv")


def test_outputs_written_and_summary_printed(wideband_report: dict) -> None:
    trials = read_trials_csv(wideband_report["_scores"])
    assert len(trials["target"]) == wideband_report["n_target"] + wideband_report["n_nontarget"]
    assert "llr" in trials and "score_asnorm" in trials
    assert Path(wideband_report["_det"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "calibrated" in wideband_report["_stdout"] and "eer" in wideband_report["_stdout"]
    assert "embedding" in wideband_report["_stderr"]  # the progress bar


def test_telephony_short_tests(telephony_report: dict) -> None:
    report = telephony_report
    assert report["config"]["channel"] == "telephony"
    assert set(report["stages"]) == {"cosine", "calibrated"}
    assert max(read_trials_csv(report["_scores"])["test_speech_s"]) <= 3.0 + 1e-6
    assert report["eer"] < 15.0


def test_bad_options_fail_with_a_message(
    small_manifest: Path, tmp_path: Path, eval_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    done = eval_cli(
        "--manifest", str(small_manifest), "--channel", "radio", "--json", str(tmp_path / "x.json")
    )
    assert done.returncode == 2
    assert "unknown channel 'radio'" in done.stderr
    done = eval_cli("--manifest", str(tmp_path / "none.csv"), "--json", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert "manifest not found" in done.stderr
