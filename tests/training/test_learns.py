"""`voiceauth train` learns: a small ECAPA trained on the CPU verifies speakers it never saw.

The model trains on every bona fide speaker of ../shared/data except a held-out set (the VCTK
and YourTTS speakers and 30 LibriSpeech speakers, with their aliases on the demo pages), and is
graded by `voiceauth eval` on the held-out speakers only, against the same architecture with
random weights: random ECAPA features already separate speakers somewhat, so "better than
chance" alone would prove little.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from voiceauth.data.manifest import ManifestRow, write_manifest
from voiceauth.embeddings.ecapa_hparams import HYPERPARAMS_FILE, EcapaHparams
from voiceauth.training.checkpoint import EmbeddingStats, write_model_dir

HELD_OUT_SETS = ("autovc_vctk_samples", "yourtts_zeroshot_clones")
CHANNELS = "128,128,128,128,384"


def person(speaker: str) -> str:
    """One id per real person: the demo pages name VCTK and LibriTTS speakers their own way."""
    for pattern, corpus in (
        (r"(?:VCTK|vctk_)(p\d+)", "vctk"),
        (r"(?:LS|LTTS|libri_)(\d+)", "libri"),
    ):
        match = re.fullmatch(pattern, speaker)
        if match:
            return f"{corpus}:{match.group(1)}"
    return speaker


def split(rows: list[ManifestRow]) -> tuple[list[ManifestRow], list[ManifestRow]]:
    bonafide = [r for r in rows if r.label == "bonafide"]
    held = {person(r.speaker) for r in bonafide if r.dataset.startswith(HELD_OUT_SETS)}
    libri = sorted({r.speaker for r in bonafide if r.dataset.startswith("resemblyzer")})
    held |= {person(s) for s in np.random.default_rng(0).choice(libri, 30, replace=False)}
    train = [r for r in bonafide if person(r.speaker) not in held]
    test = [
        r
        for r in bonafide
        if person(r.speaker) in held
        and r.dataset.startswith((*HELD_OUT_SETS, "resemblyzer_librispeech"))
    ]
    return train, test


def voiceauth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceauth", *args], capture_output=True, text=True, timeout=2400
    )


def eval_eer(manifest: Path, model_dir: Path, out: Path) -> float:
    done = voiceauth(
        "eval", "--manifest", str(manifest), "--embedder", "ecapa", "--ecapa-dir", str(model_dir),
        "--test-seconds", "4", "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["embedder"].startswith("ecapa@")
    return float(report["stages"]["cosine"]["eer"])


@pytest.mark.slow
def test_small_ecapa_learns_unseen_speakers(shared_rows: list[ManifestRow], tmp_path: Path) -> None:
    train_rows, test_rows = split(shared_rows)
    train_people = {person(r.speaker) for r in train_rows}
    assert train_people.isdisjoint(person(r.speaker) for r in test_rows)
    write_manifest(tmp_path / "train.csv", train_rows)
    write_manifest(tmp_path / "heldout.csv", test_rows)

    model = tmp_path / "ecapa-small"
    done = voiceauth(
        "train", "--manifest", str(tmp_path / "train.csv"), "--out", str(model),
        "--channels", CHANNELS, "--epochs", "12", "--steps", "40", "--seed", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    losses = [float(x) for x in re.findall(r"loss\s+([\d.]+)", done.stdout)]
    assert len(losses) == 12 and losses[-1] < losses[0]
    assert (model / "MODEL_CARD.md").is_file()

    hparams = EcapaHparams.load(model / HYPERPARAMS_FILE)
    torch.manual_seed(0)
    random_dir = tmp_path / "ecapa-random"
    write_model_dir(
        random_dir,
        hparams=hparams,
        model=hparams.build_model(),
        classifier=None,
        stats=EmbeddingStats(torch.zeros(hparams.lin_neurons), torch.ones(hparams.lin_neurons), 2),
        labels=(),
        title="random weights: the baseline a trained model must beat",
    )

    trained = eval_eer(tmp_path / "heldout.csv", model, tmp_path / "trained.json")
    random = eval_eer(tmp_path / "heldout.csv", random_dir, tmp_path / "random.json")
    print(f"held-out EER: trained {trained:.2f} %, random weights {random:.2f} %")
    assert trained < 25.0, "far from chance (50 %)"
    assert trained < random - 5.0, "training must beat the untrained network clearly"
