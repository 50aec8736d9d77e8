"""A small evaluation manifest of real speech, with a few broken files among it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voiceauth.data.manifest import ManifestRow, write_manifest

MULTI_FILE_SETS = ("autovc_vctk_samples", "yourtts_zeroshot_clones")


@pytest.fixture(scope="session")
def small_manifest(
    tmp_path_factory: pytest.TempPathFactory, shared_rows: list[ManifestRow]
) -> Path:
    """18 multi-file speakers, 30 single-file impostors, one spoof row and two broken files."""
    folder = tmp_path_factory.mktemp("eval")
    bonafide = [r for r in shared_rows if r.label == "bonafide"]
    multi = [r for r in bonafide if r.dataset.startswith(MULTI_FILE_SETS)]
    single = [r for r in bonafide if r.dataset.startswith("resemblyzer_librispeech")][:30]
    spoof = [r for r in shared_rows if r.label == "spoof"][:1]
    silence = folder / "silence.wav"
    sf.write(silence, np.zeros(16_000 * 3, dtype=np.float32), 16_000)
    truncated = folder / "truncated.flac"
    truncated.write_bytes(
        multi[0].path.read_bytes()[:60] if multi[0].path.suffix == ".flac" else b"fLaC\x00"
    )
    broken = [
        ManifestRow(silence, "VCTKp225", "bonafide"),
        ManifestRow(truncated, "VCTKp226", "bonafide"),
    ]
    manifest = folder / "manifest.csv"
    write_manifest(manifest, multi + single + spoof + broken)
    return manifest


def run_eval(*args: str) -> subprocess.CompletedProcess[str]:
    """`voiceauth eval ARGS` in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "voiceauth", "eval", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


def _report(manifest: Path, out: Path, *args: str) -> dict[str, Any]:
    done = run_eval("--manifest", str(manifest), "--embedder", "ge2e", "--json", str(out), *args)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(out.read_text())
    report["_stdout"] = done.stdout
    report["_stderr"] = done.stderr
    report["_path"] = str(out)
    report["_scores"] = str(out.parent / report["scores_csv"])
    report["_det"] = str(out.parent / report["det_png"])
    return report


@pytest.fixture(scope="session")
def wideband_report(
    small_manifest: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The report of `voiceauth eval` on the small manifest, wideband, AS-norm on."""
    return _report(small_manifest, tmp_path_factory.mktemp("wide") / "wide.json")


@pytest.fixture(scope="session")
def telephony_report(
    small_manifest: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The same through the telephone channel, tests cut to 3 s, without AS-norm."""
    out = tmp_path_factory.mktemp("tel") / "tel.json"
    return _report(
        small_manifest, out, "--channel", "telephony", "--test-seconds", "3", "--no-asnorm"
    )


@pytest.fixture(scope="session")
def eval_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `voiceauth eval` with the given arguments in a fresh process."""
    return run_eval
