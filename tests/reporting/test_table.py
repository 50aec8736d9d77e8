"""The CSV report read back with the csv module: every row and figure as written."""

from __future__ import annotations

import csv
import io

from voiceauth.reporting.kpi import NO_LINE, kpi_report
from voiceauth.reporting.table import ALL, csv_lines

from .helpers import LINE_A, LINE_B, sample_outcomes


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_round_trip() -> None:
    report = kpi_report(sample_outcomes())
    lines = list(csv_lines(report))
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    rows = _read("".join(lines))
    assert [(r["day"], r["line"]) for r in rows] == [
        ("2026-01-05", LINE_A),
        ("2026-01-05", LINE_B),
        ("2026-01-06", LINE_A),
        ("2026-01-06", NO_LINE),
        ("2026-01-05", ALL),
        ("2026-01-06", ALL),
        (ALL, LINE_A),
        (ALL, LINE_B),
        (ALL, NO_LINE),
        (ALL, ALL),
    ]
    total = rows[-1]
    for name, value in report.totals.to_dict().items():
        assert value is not None and float(total[name]) == value, name
    assert int(total["calls"]) == 8 and float(total["verification_rate"]) == 4 / 7
    pin_only = rows[1]  # one call, verified by PIN: no voice attempt, so no voice rate
    assert (pin_only["voice_attempts"], pin_only["voice_decision_rate"]) == ("0", "")
    assert rows[3]["verified"] == "2"


def test_csv_of_no_calls_is_header_and_total() -> None:
    rows = _read("".join(csv_lines(kpi_report([]))))
    assert len(rows) == 1
    assert (rows[0]["day"], rows[0]["calls"], rows[0]["identification_rate"]) == (ALL, "0", "")
