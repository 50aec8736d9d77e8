"""The watchlist benchmark runs on a small N and prints its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "watchlist.py"


def test_watchlist_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--n", "2000", "--queries", "20"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "exact flat IP" in done.stdout and "recall@1 vs exact" in done.stdout
