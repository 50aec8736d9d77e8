"""The load benchmark runs a couple of real RTP calls against a spawned server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load.py"


def test_load_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--calls", "2", "--seconds", "8", "--cm", "none"]
        + ["--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "largest step that kept up" in done.stdout
    (step,) = json.loads(out.read_text())
    assert step["calls"] == 2 and sum(step["states"].values()) == 2
    assert step["packets"]["voiceauth_packets_lost_total"] == 0
