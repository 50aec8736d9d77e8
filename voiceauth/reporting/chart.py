"""The KPI report as a PNG: rates per day above, time to verified per day below.

Drawn on a bare `Figure` with the Agg canvas, never through pyplot: no global figure state, no
display needed, and safe in the API's worker threads. matplotlib is imported on the first
chart, not with this module: the API and the CLI import it, and every start would pay ~0.3 s.
"""

from __future__ import annotations

import io
import math
from datetime import timedelta

from voiceauth.reporting.kpi import KpiReport

SIZE_INCHES = (9.0, 6.0)
DPI = 100
"""900 × 600 pixels: readable on a dashboard, small enough to mail."""
MAX_DAY_TICKS = 14
"""Every day is labelled up to this many days; longer periods every second, third... day."""


def _missing_as_nan(values: list[float | None]) -> list[float]:
    """Undefined figures as gaps in the line, not as zeros."""
    return [math.nan if v is None else v for v in values]


def kpi_chart(report: KpiReport) -> bytes:
    """The PNG bytes of the report's daily rates (percent) and times to verified (seconds).

    Days are plotted as offsets from the first, so a day without calls stays a gap.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    rates, times = figure.subplots(2, 1, sharex=True)
    first = report.by_day[0][0] if report.by_day else None
    x = [(day - first).days for day, _ in report.by_day] if first else []
    daily = [k for _, k in report.by_day]
    for name, values in (
        ("identification", [k.identification_rate for k in daily]),
        ("verification", [k.verification_rate for k in daily]),
        ("voice decision", [k.voice_decision_rate for k in daily]),
    ):
        percent = [None if v is None else 100.0 * v for v in values]
        rates.plot(x, _missing_as_nan(percent), marker="o", label=name)
    rates.set_ylim(0.0, 100.0)
    rates.set_ylabel("rate (%)")
    times.plot(x, _missing_as_nan([k.median_time_to_verified_s for k in daily]), marker="o")
    times.plot(x, _missing_as_nan([k.p90_time_to_verified_s for k in daily]), marker="o")
    times.set_ylabel("time to verified (s)")
    times.set_xlabel("day (UTC)")
    total = report.totals
    figure.suptitle(f"voiceauth KPIs: {total.calls} calls, {total.verified} verified")
    if first is None:
        rates.text(0.5, 0.5, "no calls in this period", ha="center", transform=rates.transAxes)
        times.set_xticks([])
    else:
        rates.legend(loc="lower left")
        times.legend(["median", "90th percentile"], loc="upper left")
        ticks = range(0, x[-1] + 1, math.ceil((x[-1] + 1) / MAX_DAY_TICKS))
        times.set_xticks(list(ticks), [(first + timedelta(t)).isoformat() for t in ticks])
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
