"""The KPI report as CSV: one row per day and service line, then the subtotals and the total.

Rows carry `day` and `line` first; `ALL` in either column marks a subtotal (every line of a day,
every day of a line) and both `ALL` the grand total, so a spreadsheet filters instead of
re-adding. Rates are fractions (0..1), times seconds; an undefined figure is an empty cell.
Yielded line by line so the API can stream it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from voiceauth.reporting.kpi import KpiReport, Kpis

ALL = "all"
"""`day` or `line` of a row that sums over every day or every line."""


def _row(day: str, line: str, figures: Kpis) -> list[object]:
    return [day, line, *("" if v is None else v for v in figures.to_dict().values())]


def csv_lines(report: KpiReport) -> Iterator[str]:
    """The report as CSV text, header first, one line (with its line ending) per item."""
    rows: list[Sequence[object]] = [["day", "line", *report.totals.to_dict()]]
    rows += [_row(d.isoformat(), line, k) for d, line, k in report.by_day_and_line]
    rows += [_row(d.isoformat(), ALL, k) for d, k in report.by_day]
    rows += [_row(ALL, line, k) for line, k in report.by_line]
    rows.append(_row(ALL, ALL, report.totals))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
