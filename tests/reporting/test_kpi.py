"""The KPI arithmetic on the hand-made calls of `helpers.sample_outcomes`, every figure."""

from __future__ import annotations

from datetime import date

import pytest

from voiceauth.reporting.kpi import NO_LINE, KpiDefinitions, Kpis, kpi_report, kpis

from .helpers import DAY1, LINE_A, LINE_B, outcome, sample_outcomes

D1, D2 = date(2026, 1, 5), date(2026, 1, 6)


def test_totals_of_every_figure() -> None:
    totals = kpis(sample_outcomes())
    # 8 calls; c3 is not identified; c1, c4, c7, c8 reach level 2; c4 (not enrolled) and
    # c8 (no consent) are no voice attempt; c6 is still collecting; times 10, 20, 30, 40 s.
    assert totals.p90_time_to_verified_s == pytest.approx(37.0)  # 30 + 0.7 × (40 - 30)
    assert totals == Kpis(
        calls=8,
        identified=7,
        verified=4,
        voice_attempts=5,
        voice_decided=4,
        abandoned=2,
        fraud=2,
        median_time_to_verified_s=25.0,
        p90_time_to_verified_s=totals.p90_time_to_verified_s,
        handle_time_saved_s=360.0,
    )
    assert totals.identification_rate == 7 / 8
    assert totals.verification_rate == 4 / 7
    assert totals.voice_decision_rate == 4 / 5
    renamed = KpiDefinitions(fraud_route="fraud_desk")
    assert kpis(sample_outcomes(), renamed).fraud == 1  # c5's spoof counts under any route


def test_breakdowns_per_day_and_line() -> None:
    report = kpi_report(sample_outcomes(), KpiDefinitions(seconds_saved=60.0))
    assert report.seconds_saved_per_verified_call == 60.0
    assert report.totals.handle_time_saved_s == 240.0
    (d1, day1), (d2, day2) = report.by_day
    assert (d1, d2) == (D1, D2)
    p90s = (day1.p90_time_to_verified_s, day2.p90_time_to_verified_s)
    assert p90s == pytest.approx((28.0, 38.0))  # 10 + 0.9 × 20, 20 + 0.9 × 20
    assert day1 == Kpis(4, 3, 2, 2, 2, 1, 0, 20.0, p90s[0], 120.0)
    assert day2 == Kpis(4, 4, 2, 3, 2, 1, 2, 30.0, p90s[1], 120.0)
    assert day1.voice_decision_rate == 1.0 and day2.voice_decision_rate == 2 / 3
    assert [line for line, _ in report.by_line] == [LINE_A, LINE_B, NO_LINE]
    assert [k.calls for _, k in report.by_line] == [5, 1, 2]
    assert [(d, line, k.calls, k.verified) for d, line, k in report.by_day_and_line] == [
        (D1, LINE_A, 3, 1),
        (D1, LINE_B, 1, 1),
        (D2, LINE_A, 2, 0),
        (D2, NO_LINE, 2, 2),
    ]
    only_pin = report.by_day_and_line[1][2]
    assert only_pin.voice_attempts == 0 and only_pin.voice_decision_rate is None


def test_abandoned_counts_only_the_callers_hangups_before_level_2() -> None:
    calls = [
        outcome("hung-up", DAY1, end_reason="hangup"),
        outcome("transferred", DAY1, end_reason="stop"),
        outcome("verified", DAY1, level=2, verified_after_s=12.0),
        outcome("dropped-back", DAY1, voice_state="mismatch", level=1, verified_after_s=12.0),
        outcome("anonymous", DAY1, identified=False, level=0),
        outcome("no-reason", DAY1, end_reason=None),
    ]
    assert kpis(calls).abandoned == 1
    assert kpis(calls, KpiDefinitions(hangup_reasons=frozenset({"hangup", "stop"}))).abandoned == 2


def test_no_calls_gives_undefined_rates_not_zeros() -> None:
    report = kpi_report([])
    assert report.totals == Kpis(0, 0, 0, 0, 0, 0, 0, None, None, 0.0)
    assert report.totals.identification_rate is None
    assert report.totals.verification_rate is None
    assert report.by_day == () and report.by_line == () and report.by_day_and_line == ()
    assert report.to_dict()["totals"]["median_time_to_verified_s"] is None


def test_json_form_names_every_figure() -> None:
    data = kpi_report(sample_outcomes()).to_dict()
    assert data["seconds_saved_per_verified_call"] == 90.0
    assert data["totals"]["verification_rate"] == 4 / 7
    assert data["by_day"][1] == {"day": "2026-01-06", **kpis(sample_outcomes()[4:]).to_dict()}
    assert [row["line"] for row in data["by_line"]] == [LINE_A, LINE_B, NO_LINE]
    assert data["by_day_and_line"][3]["line"] == NO_LINE
