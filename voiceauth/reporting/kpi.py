"""The contact centre's KPIs from finished calls: pure arithmetic on `CallOutcome`s.

Definitions (each rate is None when its denominator is 0, never a made-up 0):
- identification rate: identified calls / calls;
- verification rate: calls whose final level is at least `VERIFIED_LEVEL` / identified calls;
- voice decision rate: calls whose voice reached a decision (match, mismatch, spoof) / voice
  attempts, the identified calls whose voice could be checked (not `not_enrolled` or
  `no_consent`);
- time to verified: median and 90th percentile (linear interpolation) of `verified_after_s`
  over the calls that reached the level;
- handle time saved: verified calls × `KpiDefinitions.seconds_saved` (an assumption, see
  `SECONDS_SAVED_PER_VERIFIED_CALL`);
- abandoned verifications: identified calls that never reached `VERIFIED_LEVEL` and ended
  because the caller hung up, i.e. with an end reason in `HANGUP_REASONS`. Calls ended by the
  platform (`stop`, `close`, "ended by platform": the caller may have been put through to an
  agent), by the service (`shutdown`, `refused`) or by a broken connection are not counted;
- fraud: calls with a `spoof` voice or routed to the fraud queue.
Days are UTC calendar days of `started_at`; the service line is the dialled number (`dnis`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from voiceauth.calls.snapshot import DECIDED, VoiceState
from voiceauth.reporting.outcome import CallOutcome

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

VERIFIED_LEVEL = 2
"""The first level that spares the caller the agent's security questions (levels.yaml)."""
SECONDS_SAVED_PER_VERIFIED_CALL = 90.0
"""Assumption, not a measurement: the agent time a verified call skips (security questions, a
callback, an OTP read out). Replace it with the centre's own figure (`KpiDefinitions`)."""
HANGUP_REASONS = frozenset({"hangup"})
"""End reasons that mean the caller hung up: AudioSocket's hangup frame, and what a platform
sends as `POST /calls/{id}/end {"reason": "hangup"}`."""
FRAUD_ROUTE = "fraud_queue"
"""The default policy's fraud route (levels.yaml `fraud_route`)."""
NO_VOICE = frozenset({VoiceState.NOT_ENROLLED, VoiceState.NO_CONSENT})
"""Voice states of identified callers whose voice is not checked at all."""
NO_LINE = "none"
"""The service line of calls that came without a dialled number."""


@dataclass(frozen=True, slots=True)
class KpiDefinitions:
    """What the figures count as, where a centre may differ: the seconds a verified call saves
    (an assumption), the end reasons that mean the caller hung up, the fraud route's name."""

    seconds_saved: float = SECONDS_SAVED_PER_VERIFIED_CALL
    hangup_reasons: frozenset[str] = HANGUP_REASONS
    fraud_route: str = FRAUD_ROUTE


DEFAULTS = KpiDefinitions()

K = TypeVar("K", bound="SupportsRichComparison")


@dataclass(frozen=True, slots=True)
class Kpis:
    """The figures of one group of calls (a day, a service line, or all); times in seconds."""

    calls: int
    identified: int
    verified: int
    voice_attempts: int
    voice_decided: int
    abandoned: int
    fraud: int
    median_time_to_verified_s: float | None
    p90_time_to_verified_s: float | None
    handle_time_saved_s: float

    @property
    def identification_rate(self) -> float | None:
        return _rate(self.identified, self.calls)

    @property
    def verification_rate(self) -> float | None:
        return _rate(self.verified, self.identified)

    @property
    def voice_decision_rate(self) -> float | None:
        return _rate(self.voice_decided, self.voice_attempts)

    def to_dict(self) -> dict[str, int | float | None]:
        """Counts, rates and times by name, in the order the CSV columns use."""
        return {
            "calls": self.calls,
            "identified": self.identified,
            "identification_rate": self.identification_rate,
            "verified": self.verified,
            "verification_rate": self.verification_rate,
            "voice_attempts": self.voice_attempts,
            "voice_decided": self.voice_decided,
            "voice_decision_rate": self.voice_decision_rate,
            "median_time_to_verified_s": self.median_time_to_verified_s,
            "p90_time_to_verified_s": self.p90_time_to_verified_s,
            "handle_time_saved_s": self.handle_time_saved_s,
            "abandoned": self.abandoned,
            "fraud": self.fraud,
        }


@dataclass(frozen=True, slots=True)
class KpiReport:
    """All calls, and the same figures per day, per service line and per day and line."""

    seconds_saved_per_verified_call: float
    totals: Kpis
    by_day: tuple[tuple[date, Kpis], ...]
    by_line: tuple[tuple[str, Kpis], ...]
    by_day_and_line: tuple[tuple[date, str, Kpis], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: totals and the breakdowns as lists of objects."""
        return {
            "seconds_saved_per_verified_call": self.seconds_saved_per_verified_call,
            "totals": self.totals.to_dict(),
            "by_day": [{"day": d.isoformat(), **k.to_dict()} for d, k in self.by_day],
            "by_line": [{"line": line, **k.to_dict()} for line, k in self.by_line],
            "by_day_and_line": [
                {"day": d.isoformat(), "line": line, **k.to_dict()}
                for d, line, k in self.by_day_and_line
            ],
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _median_and_p90(seconds: list[float]) -> tuple[float | None, float | None]:
    if not seconds:
        return None, None
    median, p90 = np.quantile(seconds, [0.5, 0.9])
    return float(median), float(p90)


def _verified(outcome: CallOutcome) -> bool:
    return outcome.level >= VERIFIED_LEVEL


def kpis(outcomes: Sequence[CallOutcome], definitions: KpiDefinitions = DEFAULTS) -> Kpis:
    """The KPIs of one group of calls (definitions in the module docstring)."""
    identified = [o for o in outcomes if o.identified]
    attempts = [o for o in identified if o.voice_state not in NO_VOICE]
    verified = sum(map(_verified, outcomes))
    times = [o.verified_after_s for o in outcomes if o.verified_after_s is not None]
    median, p90 = _median_and_p90(times)
    return Kpis(
        calls=len(outcomes),
        identified=len(identified),
        verified=verified,
        voice_attempts=len(attempts),
        voice_decided=sum(o.voice_state in DECIDED for o in attempts),
        abandoned=sum(
            not _verified(o)
            and o.verified_after_s is None
            and o.end_reason in definitions.hangup_reasons
            for o in identified
        ),
        fraud=sum(
            o.voice_state == VoiceState.SPOOF or o.route == definitions.fraud_route
            for o in outcomes
        ),
        median_time_to_verified_s=median,
        p90_time_to_verified_s=p90,
        handle_time_saved_s=verified * definitions.seconds_saved,
    )


def _grouped(
    outcomes: Iterable[CallOutcome], key: Callable[[CallOutcome], K]
) -> list[tuple[K, list[CallOutcome]]]:
    groups: defaultdict[K, list[CallOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[key(outcome)].append(outcome)
    return sorted(groups.items(), key=lambda item: item[0])


def _day(outcome: CallOutcome) -> date:
    return outcome.started_at.date()


def _line(outcome: CallOutcome) -> str:
    return outcome.dnis or NO_LINE


def kpi_report(
    outcomes: Sequence[CallOutcome], definitions: KpiDefinitions = DEFAULTS
) -> KpiReport:
    """The report over `outcomes` (started_at in UTC), in total and broken down."""

    def figures(group: Sequence[CallOutcome]) -> Kpis:
        return kpis(group, definitions)

    return KpiReport(
        seconds_saved_per_verified_call=definitions.seconds_saved,
        totals=figures(outcomes),
        by_day=tuple((d, figures(g)) for d, g in _grouped(outcomes, _day)),
        by_line=tuple((line, figures(g)) for line, g in _grouped(outcomes, _line)),
        by_day_and_line=tuple(
            (d, line, figures(g))
            for (d, line), g in _grouped(outcomes, lambda o: (_day(o), _line(o)))
        ),
    )
