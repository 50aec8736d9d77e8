"""The attack-set recipe writes 8 kHz clips and a manifest in the shared data's columns."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from voiceauth.audio.io import load_audio
from voiceauth.data.manifest import ManifestRow, read_manifest
from voiceauth.liveness.attackset import AttackSetConfig, build_attack_set, git_blob_sha1


def test_git_blob_ids_match_git() -> None:
    assert git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_a_small_attack_set_from_real_speech(
    shared_rows: list[ManifestRow], shared_data: Path, tmp_path: Path
) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian package espeak-ng)")
    sources = [r for r in shared_rows if r.dataset == "resemblyzer_librispeech"][:2]
    sources += [r for r in shared_rows if r.dataset == "autovc_vctk_samples"][:1]
    sources += [r for r in shared_rows if r.dataset == "fsdd"][:40]
    config = AttackSetConfig(tts_per_engine=2, fsdd_sequences=1, max_source_s=2.0)
    manifest = build_attack_set(sources, tmp_path, config)

    with (shared_data / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        shared_columns = next(csv.reader(handle))
    with manifest.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert list(records[0]) == shared_columns
    rows = read_manifest(manifest)
    datasets = {r.dataset for r in rows}
    assert {"synth_espeak_ng", "sim_replay", "sim_griffinlim", "fsdd_sequences"} <= datasets
    assert sum(r.dataset == "synth_espeak_ng" for r in rows) == 2
    replays = [r for r in rows if r.dataset == "sim_replay"]
    assert {r.speaker for r in replays} == {sources[0].speaker, sources[2].speaker}
    assert [r.label for r in rows if r.dataset == "fsdd_sequences"] == ["bonafide"]
    for record, row in zip(records, rows, strict=True):
        audio = load_audio(row.path)
        assert audio.sample_rate == int(record["sample_rate"]) == 8000
        assert audio.duration_s == pytest.approx(float(record["duration_s"]), abs=1e-3)
        assert git_blob_sha1(row.path.read_bytes()) == record["git_blob_sha1"]
        assert (row.label == "spoof") == bool(row.attack)
