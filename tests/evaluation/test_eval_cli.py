"""`voiceauth eval` end to end on real speech, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voiceauth.scoring.trials import read_trials_csv

KEYS = ("eer", "min_dcf", "cllr", "fnmr_at_fmr_1", "fnmr_at_fmr_0_1", "n_target", "n_nontarget")


def run_eval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceauth", "eval", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def wideband(small_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("wide") / "wide.json"
    done = run_eval("--manifest", str(small_manifest), "--embedder", "ge2e", "--json", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    report["_stdout"] = done.stdout
    report["_stderr"] = done.stderr
    return report


def test_report_has_every_figure(wideband: dict) -> None:
    for key in KEYS:
        assert key in wideband
    assert wideband["n_target"] > 50
    assert wideband["n_nontarget"] > 20 * wideband["n_target"]
    assert set(wideband["stages"]) == {"cosine", "asnorm", "calibrated"}
    assert wideband["embedder"].startswith("ge2e@")


def test_ge2e_separates_real_speakers(wideband: dict) -> None:
    assert wideband["eer"] < 5.0
    assert wideband["stages"]["cosine"]["eer"] < 10.0
    # calibrated LLRs carry information (an uninformative LLR has Cllr 1 bit)
    assert wideband["cllr"] < 0.5
    assert wideband["fnmr_at_fmr_1"] < 30.0


def test_broken_and_spoof_rows_are_counted_not_scored(wideband: dict) -> None:
    # the silent file, the truncated one, and a few real clips with under 1 s of speech
    assert wideband["skipped_reasons"]["unreadable audio"] == 1
    assert wideband["skipped_reasons"]["insufficient net speech"] >= 1
    assert sum(wideband["skipped_reasons"].values()) == wideband["n_skipped"]
    assert wideband["n_spoof_ignored"] == 1


def test_outputs_written_and_summary_printed(wideband: dict) -> None:
    trials = read_trials_csv(wideband["scores_csv"])
    assert len(trials["target"]) == wideband["n_target"] + wideband["n_nontarget"]
    assert "llr" in trials and "score_asnorm" in trials
    assert Path(wideband["det_png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "calibrated" in wideband["_stdout"] and "eer" in wideband["_stdout"]
    assert "embedding" in wideband["_stderr"]  # the progress bar


def test_telephony_short_tests(small_manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "tel.json"
    done = run_eval(
        "--manifest",
        str(small_manifest),
        "--embedder",
        "ge2e",
        "--channel",
        "telephony",
        "--test-seconds",
        "3",
        "--no-asnorm",
        "--json",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["config"]["channel"] == "telephony"
    assert set(report["stages"]) == {"cosine", "calibrated"}
    assert max(read_trials_csv(report["scores_csv"])["test_speech_s"]) <= 3.0 + 1e-6
    assert report["eer"] < 15.0


def test_bad_options_fail_with_a_message(small_manifest: Path, tmp_path: Path) -> None:
    done = run_eval(
        "--manifest", str(small_manifest), "--channel", "radio", "--json", str(tmp_path / "x.json")
    )
    assert done.returncode == 2
    assert "unknown channel 'radio'" in done.stderr
    done = run_eval("--manifest", str(tmp_path / "none.csv"), "--json", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert "manifest not found" in done.stderr
