"""`voiceauth report kpi` on the configured store: the table, the CSV and the chart files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceauth.cli import app
from voiceauth.settings import load_settings
from voiceauth.store import Keyring, VoiceprintStore

from .helpers import sample_outcomes

runner = CliRunner()


def test_report_kpi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(runner.invoke(app, ["keys", "generate"]).output)
    monkeypatch.setenv("VOICEAUTH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEAUTH_KEY_FILE", str(key_file))
    empty = runner.invoke(app, ["report", "kpi"])  # creates and migrates the database
    assert empty.exit_code == 0, empty.output
    assert empty.output.splitlines()[1].split() == [
        "total",
        "0",
        "-",
        "-",
        "-",
        "-",
        "-",
        "0.0",
        "0",
        "0",
    ]
    with VoiceprintStore(load_settings().database, Keyring.load(key_file)) as store:
        for outcome in sample_outcomes():
            store.record_outcome(outcome)
    out_csv, out_png = tmp_path / "kpi.csv", tmp_path / "kpi.png"
    result = runner.invoke(
        app,
        ["report", "kpi", "--since", "2026-01-05", "--until", "2026-01-07", "--csv", str(out_csv)]
        + ["--chart", str(out_png), "--seconds-saved", "60"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["day", "calls", "ident"]
    assert lines[1].split() == [
        "2026-01-05",
        "4",
        "75%",
        "67%",
        "100%",
        "20.0",
        "28.0",
        "0.0",
        "1",
        "0",
    ]
    assert lines[3].split() == ["total", "8", "88%", "57%", "80%", "25.0", "37.0", "0.1", "2", "2"]
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert len(rows) == 10 and float(rows[-1]["handle_time_saved_s"]) == 240.0
    assert out_png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    later = runner.invoke(app, ["report", "kpi", "--since", "2026-01-06T12:00+01:00"])
    assert later.output.splitlines()[1].split()[:2] == ["2026-01-06", "4"]


def test_report_kpi_refuses_a_bad_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEAUTH_HOME", str(tmp_path))
    result = runner.invoke(app, ["report", "kpi", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "'yesterday' is not an ISO 8601 date or time (e.g. 2026-01-31)" in result.output
    assert list(tmp_path.iterdir()) == []
