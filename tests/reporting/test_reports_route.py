"""`GET /reports/kpi` through the API on a real store: scopes, JSON, CSV download and PNG."""

from __future__ import annotations

import csv
import io

from api.conftest import headers
from fastapi.testclient import TestClient

from voiceauth.api.state import ApiState
from voiceauth.reporting.kpi import kpis

from .helpers import sample_outcomes


def _recorded(client: TestClient) -> None:
    state: ApiState = client.app.state.voiceauth  # type: ignore[attr-defined]
    for outcome in sample_outcomes():
        state.store.record_outcome(outcome)


def test_scopes(client: TestClient) -> None:
    assert client.get("/reports/kpi").status_code == 401
    assert client.get("/reports/kpi", headers=headers("ivr")).status_code == 403
    assert client.get("/reports/kpi", headers=headers("desk")).status_code == 200
    assert client.get("/reports/kpi", headers=headers("dpo")).status_code == 200


def test_json_csv_and_png(client: TestClient) -> None:
    _recorded(client)
    period = {"since": "2026-01-06", "until": "2026-01-07T00:00:00+00:00"}  # no zone: UTC
    answer = client.get("/reports/kpi", params=period, headers=headers("desk"))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["since"], body["until"]) == (
        "2026-01-06T00:00:00+00:00",
        "2026-01-07T00:00:00+00:00",
    )
    assert body["totals"] == kpis(sample_outcomes()[4:]).to_dict()
    assert [row["day"] for row in body["by_day"]] == ["2026-01-06"]

    download = client.get(
        "/reports/kpi",
        params={**period, "format": "csv", "seconds_saved": 60},
        headers=headers("dpo"),
    )
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == (
        'attachment; filename="voiceauth-kpi-20260106T000000Z-20260107T000000Z.csv"'
    )
    total = list(csv.DictReader(io.StringIO(download.text)))[-1]
    assert (total["day"], total["line"], total["calls"]) == ("all", "all", "4")
    assert float(total["handle_time_saved_s"]) == 120.0

    chart = client.get("/reports/kpi", params={"format": "png"}, headers=headers("desk"))
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_bad_parameters_are_422(client: TestClient) -> None:
    desk = headers("desk")
    assert client.get("/reports/kpi", params={"format": "xlsx"}, headers=desk).status_code == 422
    assert client.get("/reports/kpi", params={"since": "soon"}, headers=desk).status_code == 422
    assert client.get("/reports/kpi", params={"seconds_saved": -1}, headers=desk).status_code == 422
