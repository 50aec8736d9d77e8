"""Hand-made call outcomes whose KPIs are worked out by hand in `test_kpi.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voiceauth.reporting import CallOutcome

DAY1 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
LINE_A = "+4680100"
LINE_B = "+4680200"


def outcome(
    call_id: str,
    started_at: datetime,
    *,
    dnis: str | None = LINE_A,
    identified: bool = True,
    voice_state: str = "collecting",
    level: int = 1,
    route: str = "step_up",
    factors: tuple[str, ...] = (),
    verified_after_s: float | None = None,
    end_reason: str | None = "hangup",
) -> CallOutcome:
    return CallOutcome(
        call_id=call_id,
        transport="rtp",
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=3),
        dnis=dnis,
        identified=identified,
        voice_state=voice_state,
        level=level,
        route=route,
        factors_verified=factors,
        verified_after_s=verified_after_s,
        decided_after_speech_s=3.2 if voice_state in {"match", "mismatch", "spoof"} else None,
        end_reason=end_reason,
    )


def sample_outcomes() -> list[CallOutcome]:
    """Eight calls over two days and three lines (+4680100, +4680200, none), oldest first.

    c1 verified by voice; c2 voice mismatch, hung up (abandoned); c3 never identified;
    c4 not enrolled, verified by PIN; c5 spoof, hung up (abandoned, fraud); c6 watchlist hit
    (fraud route), ended by the platform; c7 eID; c8 no consent, verified by OTP.
    """
    minute = timedelta(minutes=1)
    return [
        outcome(
            "c1", DAY1, voice_state="match", level=3, route="self_service", verified_after_s=10.0
        ),
        outcome("c2", DAY1 + minute, voice_state="mismatch"),
        outcome("c3", DAY1 + 2 * minute, identified=False, level=0, route="agent_unauthenticated"),
        outcome(
            "c4",
            DAY1 + 3 * minute,
            dnis=LINE_B,
            voice_state="not_enrolled",
            level=2,
            route="agent_no_security_questions",
            factors=("pin",),
            verified_after_s=30.0,
            end_reason="ended by platform",
        ),
        outcome("c5", DAY2, voice_state="spoof", level=0, route="fraud_queue"),
        outcome("c6", DAY2 + minute, route="fraud_queue", end_reason="stop"),
        outcome(
            "c7",
            DAY2 + 2 * minute,
            dnis=None,
            voice_state="match",
            level=4,
            route="self_service",
            factors=("eid",),
            verified_after_s=20.0,
        ),
        outcome(
            "c8",
            DAY2 + 3 * minute,
            dnis=None,
            voice_state="no_consent",
            level=2,
            route="agent_no_security_questions",
            factors=("otp",),
            verified_after_s=40.0,
            end_reason="shutdown",
        ),
    ]
