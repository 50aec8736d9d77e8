"""`GET /reports/kpi`: the KPI report over the stored call outcomes as JSON, CSV or PNG.

For agents' supervisors and admins (scopes agent, admin): the report holds no personal data,
but call volumes and fraud counts are the operator's business, not the telephony platform's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from voiceauth.api.auth import Agent
from voiceauth.api.state import ApiState, api_state
from voiceauth.reporting.chart import kpi_chart
from voiceauth.reporting.kpi import SECONDS_SAVED_PER_VERIFIED_CALL, KpiDefinitions, kpi_report
from voiceauth.reporting.period import period_end
from voiceauth.reporting.table import csv_lines

router = APIRouter(prefix="/reports", tags=["reports"])


def _stamp(moment: datetime | None) -> str:
    return "open" if moment is None else moment.strftime("%Y%m%dT%H%M%SZ")


@router.get("/kpi", response_model=None)
def kpi(
    who: Agent,
    state: Annotated[ApiState, Depends(api_state)],
    since: Annotated[datetime | None, Query(description="first call start (no zone: UTC)")] = None,
    until: Annotated[datetime | None, Query(description="calls started before this")] = None,
    format: Literal["json", "csv", "png"] = "json",
    seconds_saved: Annotated[
        float, Query(ge=0, description="assumed agent time saved per verified call (s)")
    ] = SECONDS_SAVED_PER_VERIFIED_CALL,
) -> dict[str, Any] | Response:
    """Identification, verification and voice decision rates, time to verified, handle time
    saved, abandoned verifications and fraud, in total, per day (UTC) and per service line
    (scope: agent or admin). `format=csv` streams a file, `format=png` draws the daily figures.
    """
    start, end = period_end(since), period_end(until)
    outcomes = state.store.outcomes(start, end)
    report = kpi_report(outcomes, KpiDefinitions(seconds_saved=seconds_saved))
    if format == "csv":
        name = f"voiceauth-kpi-{_stamp(start)}-{_stamp(end)}.csv"
        return StreamingResponse(
            csv_lines(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if format == "png":
        return Response(kpi_chart(report), media_type="image/png")
    return {
        "since": None if start is None else start.isoformat(),
        "until": None if end is None else end.isoformat(),
        **report.to_dict(),
    }
