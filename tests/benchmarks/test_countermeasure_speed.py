"""The countermeasure speed benchmark keeps running (its figures are read, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "countermeasure_speed.py"


def test_benchmark_prints_a_cost_for_every_countermeasure() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--seconds", "1", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^aasist: aasist@[0-9a-f]{12}, peak RSS \d+ MB", done.stdout, re.M)
    assert re.search(r"^aasist-l: aasist-l@[0-9a-f]{12}", done.stdout, re.M)
    for name in ("lcnn", "whisper-lr", "ensemble"):
        assert re.search(rf"^{name}: {name}@[0-9a-f]{{12}}", done.stdout, re.M)
    costs = re.findall(r"^\s+(\d+\.\d) CPU ms / audio s", done.stdout, re.M)
    assert len(costs) == 5 and all(float(c) > 0 for c in costs)
