"""The threshold-tuning notebook runs on fresh `voiceauth eval` output, so it cannot rot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from voiceauth.scoring.calibration import Calibration

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "threshold_tuning.ipynb"


def test_notebook_exports_a_calibration_the_engine_loads(
    wideband_report: dict[str, Any], telephony_report: dict[str, Any], tmp_path: Path
) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (parameters,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    parameters.source = (
        "from pathlib import Path\n"
        f"REPORTS = [Path({wideband_report['_path']!r}), Path({telephony_report['_path']!r})]\n"
        "OPERATING_CHANNEL = 'telephony'\n"
        "TARGET_FMRS = [0.01, 0.001]\n"
        f"OUT_DIR = Path({str(tmp_path)!r})\n"
        "CREATED = '2026-11-23'\n"
    )
    NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()

    calibration = Calibration.load(tmp_path / "ge2e-telephony.calibration.json")
    calibration.check_model(telephony_report["embedder"])
    assert calibration.features == ("score", "log_speech_s", "snr_db")
    assert calibration.weights[0] > 0  # a higher similarity means a higher LLR
    thresholds = json.loads((tmp_path / "ge2e-telephony.thresholds.json").read_text())
    assert thresholds["model"] == telephony_report["embedder"]
    assert "fmr_0.01" in thresholds["thresholds"]
    outputs = "".join(
        str(o.get("text", "")) for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "calibration round trip OK" in outputs
    assert "FMR" in outputs
