"""Countermeasure scores given as a CSV (`voiceauth eval --cm-scores`), mapped by a fixed
calibration: the fusion is fitted on the LLRs a live service would compute from them."""

from __future__ import annotations

import csv
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voiceauth.audio.vad import SileroVad
from voiceauth.cli.eval_cm import write_scores as write_scored_files
from voiceauth.data.manifest import ManifestRow, read_manifest, write_manifest
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.errors import ConfigError, VoiceauthError
from voiceauth.evaluation.cm import CmScores, read_cm_scores, score_channels, variant_column
from voiceauth.evaluation.run import EvalConfig, EvalResult, evaluate
from voiceauth.liveness.evaluate import ScoredFile
from voiceauth.liveness.gate import CM_SCORE_FEATURE
from voiceauth.scoring.calibration import MIN_SPEECH_S, Calibration

CM_MODEL = "lcnn@test"
SCORE = {"bonafide": 2.0, "spoof": -2.0}
"""Raw scores by label: cleanly apart, so every LLR below is the calibration's doing."""
FIXED = Calibration(
    model=CM_MODEL,
    features=(CM_SCORE_FEATURE,),
    weights=(0.5,),
    bias=0.25,
    fitted_on="a test",
    created="2026-11-23",
)


def write_scores(path: Path, rows: list[ManifestRow], *, relative_to: Path | None = None) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "dataset", "label", "score"])
        for row in rows:
            where = row.path.resolve()
            shown = os.path.relpath(where, relative_to) if relative_to else str(where)
            writer.writerow([shown, row.dataset, row.label, SCORE[row.label]])


@pytest.fixture(scope="module")
def clone_rows(shared_rows: list[ManifestRow]) -> list[ManifestRow]:
    """Five YourTTS speakers (genuine files, 3 clones each) and 10 LibriSpeech impostors."""
    yourtts = [r for r in shared_rows if r.dataset == "yourtts_zeroshot_clones"]
    speakers = sorted({r.speaker for r in yourtts})[:5]
    rows = [r for r in yourtts if r.speaker in speakers and r.label == "bonafide"]
    for speaker in speakers:
        rows += [r for r in yourtts if r.speaker == speaker and r.label == "spoof"][:3]
    return rows + [r for r in shared_rows if r.dataset == "resemblyzer_librispeech"][:10]


def test_scores_are_matched_on_the_resolved_path(
    clone_rows: list[ManifestRow], tmp_path: Path
) -> None:
    manifest = tmp_path / "m.csv"
    write_manifest(manifest, clone_rows)  # the manifest's paths are relative: ../../ ...
    rows = read_manifest(manifest)
    (tmp_path / "sub").mkdir()
    table = tmp_path / "sub" / "scores.csv"
    write_scores(table, clone_rows, relative_to=table.parent)  # ... and so are the CSV's
    given = read_cm_scores(table, rows, model=CM_MODEL)
    assert given.model == CM_MODEL
    assert [given.scores[r.key] for r in rows] == [SCORE[r.label] for r in rows]


def test_scores_through_other_channels_are_columns_of_their_own(
    clone_rows: list[ManifestRow], tmp_path: Path
) -> None:
    """train-cm writes each held-out file's score through other channels beside its score;
    a reader picks a channel by its column, and one it lacks is refused."""
    scored = [ScoredFile(r, SCORE[r.label], 4.0) for r in clone_rows]
    gsm = np.array([SCORE[r.label] / 2 for r in clone_rows])
    path = tmp_path / "scores.csv"
    write_scored_files(path, scored, {"gsm leg": gsm, "a-law, 5 % loss": gsm - 1})
    assert score_channels(path) == ["gsm leg", "a-law, 5 % loss"]
    heard = read_cm_scores(path, clone_rows, model=CM_MODEL, column=variant_column("gsm leg"))
    assert [heard.scores[r.key] for r in clone_rows] == list(gsm)
    assert heard.heard == "gsm leg"
    plain = read_cm_scores(path, clone_rows, model=CM_MODEL)
    assert plain.heard == ""
    assert [plain.scores[r.key] for r in clone_rows] == [SCORE[r.label] for r in clone_rows]
    with pytest.raises(ConfigError, match="need columns path and score: opus"):
        read_cm_scores(path, clone_rows, model=CM_MODEL, column=variant_column("opus"))
    write_scored_files(path, scored)
    assert score_channels(path) == []


def test_a_file_without_a_score_is_refused(clone_rows: list[ManifestRow], tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    write_scores(path, clone_rows[2:])
    with pytest.raises(ConfigError, match=rf"2 of {len(clone_rows)} manifest files have no row"):
        read_cm_scores(path, clone_rows, model=CM_MODEL)
    path.write_text("path,llr\nx.wav,1.0\n")
    with pytest.raises(ConfigError, match="need columns path and score"):
        read_cm_scores(path, clone_rows, model=CM_MODEL)


def test_the_cli_refuses_missing_rows_and_a_missing_model(
    clone_rows: list[ManifestRow],
    tmp_path: Path,
    eval_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    manifest, scores = tmp_path / "m.csv", tmp_path / "scores.csv"
    write_manifest(manifest, clone_rows)
    write_scores(scores, clone_rows[:-3])
    common = ("--manifest", str(manifest), "--json", str(tmp_path / "x.json"))
    done = eval_cli(*common, "--cm-scores", str(scores), "--cm-model", CM_MODEL)
    assert done.returncode == 2
    assert f"3 of {len(clone_rows)} manifest files have no row" in done.stderr
    done = eval_cli(*common, "--cm-scores", str(scores))
    assert done.returncode == 2
    assert "--cm-scores needs --cm-model ID@VERSION" in done.stderr
    done = eval_cli(*common, "--cm-channel", "gsm leg")
    assert done.returncode == 2
    assert "--cm-channel picks a column of --cm-scores" in done.stderr
    scored = [ScoredFile(r, SCORE[r.label], 4.0) for r in clone_rows]
    write_scored_files(scores, scored, {"gsm leg": np.zeros(len(scored))})
    done = eval_cli(
        *common, "--cm-scores", str(scores), "--cm-model", CM_MODEL, "--cm-channel", "opus"
    )
    assert done.returncode == 2
    assert "need columns path and score: opus" in done.stderr


@pytest.fixture(scope="module")
def given_result(clone_rows: list[ManifestRow], ge2e: Ge2eEmbedder, vad: SileroVad) -> EvalResult:
    given = CmScores(CM_MODEL, {r.key: SCORE[r.label] for r in clone_rows}, heard="net speech")
    config = EvalConfig(channel="telephony", test_seconds=4.0, asnorm_top_n=20)
    return evaluate(
        clone_rows, ge2e, vad, config, created="2026-11-23", cm=given, cm_calibration=FIXED
    )


def test_given_scores_feed_the_fusion_through_the_fixed_calibration(
    given_result: EvalResult,
) -> None:
    with_cm = given_result.report["with_cm"]
    assert with_cm["cm"] == CM_MODEL
    assert with_cm["cm_calibration"] == "fixed: a test"
    assert with_cm["n_cm_spoof"] == 15
    assert with_cm["cm_eer"] == 0.0
    assert given_result.cm_calibration is None  # nothing refitted, nothing to ship
    fusion = given_result.fusion
    assert fusion is not None and fusion.cm_model == CM_MODEL
    assert fusion.fitted_on.endswith("; countermeasure scores heard as net speech)")
    # the spoof threshold sits on the fixed map's scale: live speech maps to 0.5 * 2 + 0.25
    assert fusion.thresholds.spoof == pytest.approx(1.25)
    assert with_cm["outcomes"]["spoof"]["spoof"] == 100.0
    assert with_cm["outcomes"]["target"]["spoof"] == 0.0


def test_a_fixed_voice_calibration_gives_the_llrs_a_call_computes(
    clone_rows: list[ManifestRow], ge2e: Ge2eEmbedder, vad: SileroVad
) -> None:
    """With `voice_calibration`, every trial's voice LLR is that file's map of its cosine
    (the scale a live call's scorer uses), not a calibration refitted by fold."""
    voice = Calibration(
        model=f"ge2e@{ge2e.version}",
        features=("score", "log_speech_s", "snr_db"),
        weights=(10.0, -1.0, 0.0),
        bias=-5.0,
        fitted_on="a voice test",
        created="2026-11-24",
    )
    given = CmScores(CM_MODEL, {r.key: SCORE[r.label] for r in clone_rows})
    config = EvalConfig(channel="telephony", test_seconds=4.0, asnorm=False)
    result = evaluate(
        clone_rows,
        ge2e,
        vad,
        config,
        created="2026-11-24",
        cm=given,
        cm_calibration=FIXED,
        voice_calibration=voice,
    )
    assert result.report["voice_calibration"] == "fixed: a voice test"
    for trials in (result.trials, result.spoof_trials):
        assert trials is not None
        speech = np.maximum(trials["test_speech_s"], MIN_SPEECH_S)
        expected = 10.0 * trials["score"] - np.log(speech) - 5.0
        np.testing.assert_allclose(trials["llr"], expected, rtol=1e-9)
    assert result.fusion is not None and result.fusion.voice_model == f"ge2e@{ge2e.version}"


def test_a_voice_calibration_of_another_model_is_refused(
    clone_rows: list[ManifestRow], ge2e: Ge2eEmbedder, vad: SileroVad
) -> None:
    other = Calibration(
        model="ecapa@0000",
        features=("score", "log_speech_s"),
        weights=(1.0, 0.0),
        bias=0.0,
        fitted_on="another model",
        created="2026-11-24",
    )
    config = EvalConfig(channel="telephony", test_seconds=4.0, asnorm=False)
    with pytest.raises(VoiceauthError, match="ecapa"):
        evaluate(clone_rows[:8], ge2e, vad, config, created="2026-11-24", voice_calibration=other)
