"""`voiceauth train`: progress per epoch, fine-tuning with --init, errors as one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from voiceauth.cli import app
from voiceauth.data.manifest import read_manifest, write_manifest
from voiceauth.embeddings.ecapa import EcapaEmbedder


@pytest.fixture
def one_thread() -> Iterator[None]:
    """`--threads 1` changes the process's torch setting; give the next tests theirs back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def manifest(tmp_path: Path, shared_data: Path) -> Path:
    rows = [
        row
        for row in read_manifest(shared_data / "manifest.csv")
        if row.dataset == "autovc_vctk_samples" and row.speaker in ("VCTKp225", "VCTKp226")
    ]
    path = tmp_path / "manifest.csv"
    write_manifest(path, [r for r in rows if r.path.stem.endswith(("003", "008", "011"))])
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["train", *args])
    return result.exit_code, result.output


def test_train_then_fine_tune(manifest: Path, tmp_path: Path, one_thread: None) -> None:
    tiny = ["--epochs", "2", "--steps", "2", "--batch-size", "4", "--crop-seconds", "1"]
    code, output = run(
        "--manifest", str(manifest), "--out", str(tmp_path / "m1"), *tiny,
        "--channels", "32,32,32,32,96", "--threads", "1", "--telephony-prob", "1",
    )  # fmt: skip
    assert code == 0, output
    assert "epoch   1/2  loss" in output
    assert "epoch   2/2  loss" in output
    assert "wrote " in output
    first = EcapaEmbedder(tmp_path / "m1")
    assert first.hparams.channels == (32, 32, 32, 32, 96)

    code, output = run(
        "--manifest", str(manifest), "--out", str(tmp_path / "m2"), *tiny,
        "--init", str(tmp_path / "m1"), "--threads", "1",
    )  # fmt: skip
    assert code == 0, output
    second = EcapaEmbedder(tmp_path / "m2")
    assert second.hparams.channels == (32, 32, 32, 32, 96)  # the --init model's, not default
    assert second.version != first.version
    assert f"initialised from: {tmp_path / 'm1'}" in (tmp_path / "m2" / "MODEL_CARD.md").read_text()


def test_errors_are_one_line(manifest: Path, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    code, output = run("--manifest", str(manifest), "--out", str(tmp_path / "used"))
    assert code == 2
    assert "exists and is not empty" in output
    code, output = run("--manifest", str(manifest), "--out", str(tmp_path / "o"), "--channels", "a")
    assert (code, output.strip()) == (
        2,
        "error: --channels must be comma-separated integers, got 'a'",
    )
    code, output = run(
        "--manifest", str(manifest), "--out", str(tmp_path / "o"), "--init", str(tmp_path)
    )
    assert code == 2
    assert "hyperparams.yaml missing" in output


def test_command_defaults_are_the_recipe_defaults() -> None:
    """The CLI repeats the defaults for --help; they must not drift from TrainConfig's."""
    import inspect
    from dataclasses import fields

    from voiceauth.cli.train import parse_channels, train_command
    from voiceauth.training.config import AugmentConfig, TrainConfig

    options = {name: p.default for name, p in inspect.signature(train_command).parameters.items()}
    config = {f.name: f.default for f in fields(TrainConfig)}
    augment = {f.name: f.default for f in fields(AugmentConfig)}
    for name in ("epochs", "steps", "batch_size", "crop_seconds", "learning_rate", "seed"):
        assert options[name] == config[name], name
    assert parse_channels(options["channels"]) == config["channels"]
    for name in ("telephony_prob", "noise_prob", "speed_prob"):
        assert options[name] == augment[name], name
    assert options["val_fraction"] == config["val_fraction"]
