"""The speed benchmark keeps running (its figures are read by people, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "embedding_speed.py"


def test_benchmark_prints_a_rate_for_every_embedder_and_input() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--files", "1", "--batch", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^ge2e: ge2e@[0-9a-f]{12}, peak RSS \d+ MB", done.stdout, re.M)
    assert re.search(r"^ecapa \(random weights\): ecapa@[0-9a-f]{12}", done.stdout, re.M)
    rates = re.findall(r"^\s+(wideband|8k)_batch1\s+([\d.]+) audio s / CPU s", done.stdout, re.M)
    assert len(rates) == 4
    assert all(float(rate) > 0 for _, rate in rates)
