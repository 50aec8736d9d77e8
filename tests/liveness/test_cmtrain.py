"""Purged page folds: no held-out page, speaker or attack system is trained on; speaker
folds: no held-out speaker is, while every system is; family folds: no held-out family is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from voiceauth.cli import app
from voiceauth.data.manifest import ManifestRow, read_manifest, write_manifest
from voiceauth.errors import ConfigError
from voiceauth.evaluation.cm import score_channels
from voiceauth.liveness.base import create_countermeasure, load_countermeasure_calibration
from voiceauth.liveness.cmtrain import LcnnTrainConfig, load_clips, purged_folds, train_lcnn
from voiceauth.liveness.evaluate import call_speech, family_of


def row(dataset: str, speaker: str, attack: str = "") -> ManifestRow:
    return ManifestRow(
        Path(f"/{dataset}/{speaker}{attack}.flac"),
        speaker,
        "spoof" if attack else "bonafide",
        dataset,
        attack,
    )


def test_held_out_pages_speakers_and_attacks_never_train(shared_rows: list[ManifestRow]) -> None:
    rows = [r for r in shared_rows if r.dataset != "fsdd"]
    folds = purged_folds(rows, 4)
    tested = sorted(i for _, test in folds for i in test)
    assert tested == list(range(len(rows)))
    for train, test in folds:
        held = {rows[i].dataset for i in test}
        assert not held & {rows[i].dataset for i in train}
        assert not {rows[i].speaker for i in test} & {rows[i].speaker for i in train}
        spoofs = {rows[i].attack for i in test if rows[i].label == "spoof"}
        assert not spoofs & {rows[i].attack for i in train if rows[i].label == "spoof"}
        assert len(train) > len(rows) // 3


def test_purging_removes_shared_speakers_and_systems() -> None:
    rows = [
        row("a", "s1"),
        row("a", "s1", "autovc"),
        row("a", "s5"),
        row("a", "s5", "glowtts"),
        row("b", "s1"),
        row("b", "s2", "autovc"),
        row("b", "s2"),
        row("b", "s3", "vits"),
    ]
    folds = purged_folds(rows, 2)
    train_a = next(train for train, test in folds if 0 in test)
    assert [rows[i].speaker for i in train_a] == ["s2", "s3"]
    assert [rows[i].attack for i in train_a] == ["", "vits"]
    with pytest.raises(ConfigError, match="at least 3 page groups"):
        purged_folds(rows, 3)


def test_speaker_folds_hold_out_people_but_share_systems(
    shared_rows: list[ManifestRow],
) -> None:
    rows = [r for r in shared_rows if r.dataset != "fsdd"]
    folds = purged_folds(rows, 4, by="speaker")
    assert sorted(i for _, test in folds for i in test) == list(range(len(rows)))
    shared = 0
    for train, test in folds:
        assert not {rows[i].speaker for i in test} & {rows[i].speaker for i in train}
        seen = {rows[i].attack for i in train if rows[i].label == "spoof"}
        shared += len(seen & {rows[i].attack for i in test if rows[i].label == "spoof"})
        # a held-out customer's YourTTS clones come from a system the fold model learnt from
        assert "yourtts_exp4_scl_zeroshot_tts" in seen
    assert shared > 50
    with pytest.raises(ConfigError, match="page or speaker"):
        purged_folds(rows, 4, by="attack")


def test_family_folds_hold_out_whole_attack_families(shared_rows: list[ManifestRow]) -> None:
    rows = [r for r in shared_rows if r.dataset != "fsdd"]
    folds = purged_folds(rows, 3, by="family")
    assert sorted(i for _, test in folds for i in test) == list(range(len(rows)))
    tested_families = []
    for train, test in folds:
        held = {family_of(rows[i]) for i in test if rows[i].label == "spoof"}
        assert held and not held & {family_of(rows[i]) for i in train if rows[i].label == "spoof"}
        assert not {rows[i].speaker for i in test} & {rows[i].speaker for i in train}
        assert any(rows[i].label == "bonafide" for i in test)
        tested_families += held
    assert len(tested_families) == len(set(tested_families))  # each family in one fold only


def test_net_speech_clips_are_what_a_call_feeds_the_detector(
    shared_rows: list[ManifestRow],
) -> None:
    rows = [r for r in shared_rows if r.dataset == "vqmivc"][:4]
    whole = load_clips(rows, sample_rate=8_000, max_seconds=6.0, seed=0)
    net = load_clips(rows, sample_rate=8_000, max_seconds=6.0, seed=0, net_speech=True)
    assert net.rows == whole.rows == rows
    for heard, speech in zip(whole.audio, net.audio, strict=True):
        assert np.array_equal(speech, call_speech(heard, 8_000))
    assert sum(map(len, net.audio)) < sum(map(len, whole.audio))


def test_leg_coded_copies_are_learnt_and_only_when_asked(
    shared_rows: list[ManifestRow], one_thread: None
) -> None:
    rows = [r for r in shared_rows if r.dataset == "vqmivc"][:4]
    clips = load_clips(rows, sample_rate=8_000, max_seconds=3.0, seed=0, leg_codecs=("gsm",))
    assert len(clips.legged) == len(clips.audio) == len(rows)
    for clean, coded in zip(clips.audio, clips.legged, strict=True):
        assert len(coded) == len(clean) and not np.allclose(coded, clean, atol=1e-3)
    assert load_clips(rows, sample_rate=8_000, max_seconds=3.0, seed=0).legged == []
    config = LcnnTrainConfig(steps=2, batch=4, crop_s=1.0)
    nets = [
        train_lcnn(clips.rows, clips.audio, config, seed=0, legged=legged)
        for legged in ((), clips.legged, ())
    ]
    weights = [next(net.parameters()).detach() for net in nets]
    assert torch.equal(weights[0], weights[2])  # without copies, runs are reproducible
    assert not torch.equal(weights[0], weights[1])  # the copies changed what was learnt


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--cm", "lfcc-lr", "--net-speech"], "--net-speech trains lcnn or whisper-lr"),
        (["--cm", "whisper-lr", "--leg-codec", "gsm"], "--leg-codec trains lcnn"),
        (["--cm", "lcnn", "--leg-codec", "amr"], "unknown --leg-codec amr"),
        (["--cm", "lfcc-lr", "--fold-by", "speaker"], "--fold-by trains lcnn or whisper-lr"),
        (["--cm", "lcnn", "--fold-by", "dataset"], "--fold-by is page or speaker"),
    ],
)
def test_train_cm_refuses_options_a_recipe_does_not_take(
    tmp_path: Path, options: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        app,
        ["train-cm", *options, "--manifest", str(tmp_path / "m.csv")]
        + ["--out", str(tmp_path / "m"), "--json", str(tmp_path / "m.json")],
    )
    assert result.exit_code != 0
    assert message in result.output


def test_train_cm_lcnn_writes_weights_calibration_and_held_out_speakers(
    shared_rows: list[ManifestRow], tmp_path: Path
) -> None:
    pages = ("adainvc", "vqmivc", "yourtts_zeroshot_clones")
    chosen = []
    for page in pages:
        for label in ("bonafide", "spoof"):
            chosen += [r for r in shared_rows if r.dataset == page and r.label == label][:3]
    yourtts = [r for r in shared_rows if r.dataset == "yourtts_zeroshot_clones"]
    held = yourtts[-1].speaker
    assert held not in {r.speaker for r in chosen}
    chosen += [r for r in yourtts if r.speaker == held]
    manifest = tmp_path / "manifest.csv"
    write_manifest(manifest, chosen)
    out, report = tmp_path / "lcnn", tmp_path / "lcnn.json"
    threads = torch.get_num_threads()
    result = CliRunner().invoke(
        app,
        [
            "train-cm",
            "--cm",
            "lcnn",
            "--manifest",
            str(manifest),
            "--out",
            str(out),
            "--json",
            str(report),
            "--folds",
            "3",
            "--steps",
            "3",
            "--max-seconds",
            "2",
            "--threads",
            "1",
            "--holdout-speaker",
            held,
            "--net-speech",
        ],
    )
    torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    assert "held-out EER" in result.output
    figures = json.loads(report.read_text())
    assert figures["holdout_speakers"] == [held]
    assert figures["config"]["net_speech"] is True
    assert figures["trained_on"].endswith("VAD net speech")
    assert set(figures["per_channel"]) >= {
        "wideband (no telephone channel)",
        "telephony mu-law after a GSM full-rate mobile leg",
        "telephony mu-law, VAD net speech",
        "telephony mu-law after a GSM full-rate mobile leg, VAD net speech",
    }
    scored = figures["n_bonafide"] + figures["n_spoof"] + figures["n_skipped"]
    assert scored == len(chosen) - sum(r.speaker == held for r in chosen)
    # each file's held-out score through every other channel, for combine-cm to weigh
    channels = set(figures["per_channel"]) - {"telephony mu-law (as trained)"}
    assert set(score_channels(Path(figures["scores_csv"]))) == channels
    cm = create_countermeasure("lcnn", weights_dir=out)
    calibration = load_countermeasure_calibration(cm, out)
    assert calibration.model == f"lcnn@{cm.version}"
    assert {r.speaker for r in read_manifest(out / "heldout.csv")} == {held}
