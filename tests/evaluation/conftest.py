"""A small evaluation manifest of real speech, with a few broken files among it."""

from __future__ import annotations

from pathlib import Path

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
