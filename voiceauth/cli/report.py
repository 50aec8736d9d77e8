"""`voiceauth report kpi`: the contact centre's KPIs from the stored call outcomes.

Prints one line per day and the total; `--csv` and `--chart` write the full report (per day and
service line) for a spreadsheet or a slide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.cli.store import open_store
from voiceauth.errors import VoiceauthError
from voiceauth.reporting.chart import kpi_chart
from voiceauth.reporting.kpi import (
    SECONDS_SAVED_PER_VERIFIED_CALL,
    KpiDefinitions,
    KpiReport,
    Kpis,
    kpi_report,
)
from voiceauth.reporting.period import parse_period_end
from voiceauth.reporting.table import csv_lines
from voiceauth.settings import load_settings

report_app = typer.Typer(help="Reports from the stored call outcomes.", no_args_is_help=True)
app.add_typer(report_app, name="report")

HEADER = (
    f"{'day':<10} {'calls':>6} {'ident':>6} {'verif':>6} {'voice':>6} {'med s':>6} "
    f"{'p90 s':>6} {'saved h':>8} {'aband':>6} {'fraud':>6}"
)


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.0f}%"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _line(label: str, k: Kpis) -> str:
    return (
        f"{label:<10} {k.calls:>6} {_percent(k.identification_rate):>6} "
        f"{_percent(k.verification_rate):>6} {_percent(k.voice_decision_rate):>6} "
        f"{_seconds(k.median_time_to_verified_s):>6} {_seconds(k.p90_time_to_verified_s):>6} "
        f"{k.handle_time_saved_s / 3600:>8.1f} {k.abandoned:>6} {k.fraud:>6}"
    )


def table(report: KpiReport) -> str:
    """The per-day lines and the total, for a terminal."""
    rows = [_line(day.isoformat(), k) for day, k in report.by_day]
    return "\n".join([HEADER, *rows, _line("total", report.totals)])


@report_app.command("kpi")
def kpi(
    since: Annotated[
        str | None, typer.Option(help="first call start, ISO 8601 (no zone: UTC)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="calls started before this, ISO 8601")] = None,
    csv: Annotated[Path | None, typer.Option(help="write the full report as CSV here")] = None,
    chart: Annotated[Path | None, typer.Option(help="draw the daily figures as PNG here")] = None,
    seconds_saved: Annotated[
        float, typer.Option(min=0, help="assumed agent time saved per verified call (s)")
    ] = SECONDS_SAVED_PER_VERIFIED_CALL,
) -> None:
    """Identification and verification rates, time to verified, handle time saved,
    abandoned verifications and fraud, per day (UTC)."""
    try:
        start, end = parse_period_end(since), parse_period_end(until)
    except ValueError as exc:
        fail(str(exc))
    try:
        with open_store(load_settings()) as store:
            outcomes = store.outcomes(start, end)
    except VoiceauthError as exc:
        fail(str(exc))
    report = kpi_report(outcomes, KpiDefinitions(seconds_saved=seconds_saved))
    typer.echo(table(report))
    typer.echo(f"(ident: of calls, verif: of identified, saved h at {seconds_saved:g} s per call)")
    if csv is not None:
        with csv.open("w", newline="", encoding="utf-8") as file:
            file.writelines(csv_lines(report))
        typer.echo(f"CSV written to {csv}")
    if chart is not None:
        chart.write_bytes(kpi_chart(report))
        typer.echo(f"chart written to {chart}")
