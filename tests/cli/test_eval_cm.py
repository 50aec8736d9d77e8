"""`voiceauth eval-cm` end to end on a few real bona fide and spoofed clips."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from voiceauth.cli import app
from voiceauth.liveness.base import create_countermeasure, default_countermeasure_dir

runner = CliRunner()
PAGE = "styletts2_demo"
"""A demo page with genuine clips and clips of several systems, all 8 kHz."""


@pytest.fixture(autouse=True)
def keep_torch_threads() -> Iterator[None]:
    """The command sets torch's thread count for its process; give the next test its own."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def aasist_dir(shared_data: Path) -> Path:
    """../shared/models/aasist, beside ../shared/data."""
    folder = shared_data.parent / "models" / "aasist"
    if not (folder / "AASIST-L.pth").is_file():
        pytest.fail(f"AASIST weights not found in {folder} (see ../shared/models/README.md)")
    return folder


@pytest.fixture(scope="module")
def cm_manifest(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 genuine clips and 3 spoofs of two systems from one page, each 1-4 s (one window)."""
    with (shared_data / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["dataset"] == PAGE and 1.0 <= float(r["duration_s"]) <= 4.0
        ]
    bonafide = [r for r in rows if r["label"] == "bonafide"][:3]
    attacks = sorted({r["attack"] for r in rows if r["label"] == "spoof"})[:2]
    spoof = [r for r in rows if r["attack"] == attacks[0]][:2]
    spoof += [r for r in rows if r["attack"] == attacks[1]][:1]
    manifest = tmp_path_factory.mktemp("cm") / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "dataset", "speaker", "label", "attack"])
        for r in bonafide + spoof:
            path = shared_data / r["path"]
            writer.writerow([path, r["dataset"], r["speaker"], r["label"], r["attack"]])
    return manifest


def test_eval_cm_writes_overall_per_attack_and_per_page_eer(
    cm_manifest: Path, tmp_path: Path, aasist_dir: Path
) -> None:
    out = tmp_path / "cm.json"
    result = runner.invoke(
        app,
        [
            "eval-cm",
            "--manifest",
            str(cm_manifest),
            "--cm",
            "aasist-l",
            "--weights-dir",
            str(aasist_dir),
            "--channel",
            "telephony",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert (report["cm"], report["n_bonafide"], report["n_spoof"]) == ("aasist-l", 3, 3)
    assert 0.0 <= report["cm_eer"] <= 100.0
    assert len(report["per_attack"]) == 2 and sum(report["per_attack_n"].values()) == 3
    assert all(0.0 <= e <= 100.0 for e in report["per_attack"].values())
    assert set(report["per_dataset"]) == {PAGE}
    assert report["config"]["channel"] == "telephony"
    assert report["speed"]["cpu_ms_per_audio_s"] > 0
    with Path(report["scores_csv"]).open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 6
    assert "EER" in result.output and "CPU ms / audio s" in result.output


def test_eval_cm_scores_with_the_shipped_lcnn_by_default(cm_manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "lcnn.json"
    result = runner.invoke(
        app, ["eval-cm", "--manifest", str(cm_manifest), "--cm", "lcnn", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    shipped = create_countermeasure("lcnn", weights_dir=default_countermeasure_dir(name="lcnn"))
    assert (report["cm"], report["version"]) == ("lcnn", shipped.version)
    assert (report["n_bonafide"], report["n_spoof"]) == (3, 3)
    assert {"spoof_accept_at_90_bonafide", "per_family"} <= set(report)
    mobile = tmp_path / "gsm.json"
    arguments = ["eval-cm", "--manifest", str(cm_manifest), "--cm", "lcnn", "--json", str(mobile)]
    result = runner.invoke(app, [*arguments, "--leg-codec", "gsm"])
    assert result.exit_code == 0, result.output
    coded = json.loads(mobile.read_text())
    assert coded["config"]["leg_codec"] == "gsm" and report["config"]["leg_codec"] is None
    assert (coded["n_bonafide"], coded["n_spoof"]) == (3, 3)

    def scores(path: Path) -> list[float]:
        with path.with_suffix(".scores.csv").open(encoding="utf-8") as handle:
            return [float(row["score"]) for row in csv.DictReader(handle)]

    assert scores(mobile) != pytest.approx(scores(out), abs=1e-3)  # the codec was heard


def test_eval_cm_names_what_is_missing(cm_manifest: Path, tmp_path: Path) -> None:
    no_weights = runner.invoke(
        app, ["eval-cm", "--manifest", str(cm_manifest), "--json", str(tmp_path / "x.json")]
    )
    assert no_weights.exit_code == 2 and "no weights directory given" in no_weights.output
    bad_channel = runner.invoke(
        app,
        [
            "eval-cm",
            "--manifest",
            str(cm_manifest),
            "--channel",
            "radio",
            "--json",
            str(tmp_path / "x.json"),
        ],
    )
    assert bad_channel.exit_code == 2 and "unknown channel 'radio'" in bad_channel.output
    manifest, out = str(cm_manifest), str(tmp_path / "x.json")
    bad_codec = runner.invoke(
        app,
        ["eval-cm", "--manifest", manifest, "--cm", "lcnn", "--leg-codec", "amr", "--json", out],
    )
    assert bad_codec.exit_code == 2 and "unknown leg codec 'amr'" in bad_codec.output
    wideband = runner.invoke(
        app,
        ["eval-cm", "--manifest", manifest, "--cm", "lcnn", "--channel", "wideband"]
        + ["--leg-codec", "gsm", "--json", out],
    )
    assert wideband.exit_code == 2 and "part of the telephony channel" in wideband.output
