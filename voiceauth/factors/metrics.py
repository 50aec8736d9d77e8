"""Prometheus counters of the factors: knowledge checks, lockouts, one-time codes, eID outcomes.

They live in the service's registry (`CallMetrics.registry`), so one `/metrics` shows calls and
factors together. Labels are closed vocabularies (kind, outcome, scope, event, method, status),
never a customer id, an ANI or a value: a label is kept by Prometheus for weeks and a number
of distinct values grows its memory. Every label combination starts at zero, so `rate()` and
alerts see a series before its first event.
"""

from __future__ import annotations

from typing import get_args

from prometheus_client import CollectorRegistry, Counter

from voiceauth.factors.eid.outcome import FINAL
from voiceauth.factors.eid.service import EidCheck, Method
from voiceauth.factors.knowledge import KnowledgeCheck, KnowledgeKind, Outcome
from voiceauth.factors.limits import Scope
from voiceauth.factors.otp import UNDELIVERED, OtpOutcome, SendOutcome

LOCKOUT_SCOPES = (Scope.CUSTOMER, Scope.ANI)
"""A call spending its retry budget is routine; a customer or a number locked is an event."""
OTP_EVENTS = (*(s.value for s in SendOutcome), UNDELIVERED, *(o.value for o in OtpOutcome))


class FactorMetrics:
    """The factor counters, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.knowledge_checks = Counter(
            "voiceauth_knowledge_checks",
            "Knowledge-factor checks, by kind and outcome (the caller only learns verified or not)",
            ["kind", "outcome"],
            registry=registry,
        )
        self.lockouts = Counter(
            "voiceauth_lockouts",
            "Lockouts started after repeated knowledge-factor failures, by scope",
            ["scope"],
            registry=registry,
        )
        self.otp_events = Counter(
            "voiceauth_otp_events",
            "One-time codes sent, refused, undelivered and checked, by event",
            ["event"],
            registry=registry,
        )
        self.eid_outcomes = Counter(
            "voiceauth_eid_outcomes",
            "eID checks ended, by method and final status",
            ["method", "status"],
            registry=registry,
        )
        for kind in KnowledgeKind:
            for outcome in Outcome:
                self.knowledge_checks.labels(kind=kind.value, outcome=outcome.value)
        for scope in LOCKOUT_SCOPES:
            self.lockouts.labels(scope=scope.value)
        for event in OTP_EVENTS:
            self.otp_events.labels(event=event)
        for method in get_args(Method):
            for status in sorted(FINAL):
                self.eid_outcomes.labels(method=method, status=status.value)

    def knowledge(self, kind: KnowledgeKind, check: KnowledgeCheck) -> None:
        """Count one check and the customer or ANI lockouts it started."""
        self.knowledge_checks.labels(kind=kind.value, outcome=check.outcome.value).inc()
        for scope in check.newly_locked:
            if scope in LOCKOUT_SCOPES:
                self.lockouts.labels(scope=scope.value).inc()

    def otp(self, event: str) -> None:
        """Count one send or check of a one-time code: one of `OTP_EVENTS`."""
        self.otp_events.labels(event=event).inc()

    def eid(self, check: EidCheck) -> None:
        """Count one eID check that reached its final status."""
        self.eid_outcomes.labels(method=check.method, status=check.status.value).inc()
