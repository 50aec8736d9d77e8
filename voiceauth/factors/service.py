"""`Factors`: knowledge factors, one-time codes and the per-call results, built from settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from voiceauth.factors.hashing import SecretHasher
from voiceauth.factors.knowledge import KnowledgeFactors
from voiceauth.factors.limits import AttemptLimits
from voiceauth.factors.metrics import FactorMetrics
from voiceauth.factors.notifier import Notifier
from voiceauth.factors.otp import OneTimeCodes, OtpSettings
from voiceauth.factors.results import CallFactors
from voiceauth.factors.sms import HttpSmsNotifier
from voiceauth.factors.smtp import SmtpNotifier
from voiceauth.settings import Settings
from voiceauth.store.core import StoreCore


def notifiers_from(settings: Settings) -> dict[str, Notifier]:
    """The configured notifiers by channel: e-mail if `smtp_url`, SMS if `sms_gateway_url`."""
    found: dict[str, Notifier] = {}
    if settings.smtp_url is not None:
        found["email"] = SmtpNotifier(
            settings.smtp_url.get_secret_value(), sender=settings.otp_sender
        )
    if settings.sms_gateway_url is not None:
        token = settings.sms_gateway_token
        found["sms"] = HttpSmsNotifier(
            settings.sms_gateway_url,
            sender=settings.otp_sender,
            body_template=settings.sms_gateway_body,
            token=None if token is None else token.get_secret_value(),
        )
    return found


def limits_from(settings: Settings) -> AttemptLimits:
    return AttemptLimits(
        per_call=settings.knowledge_attempts_per_call,
        lockout_after=settings.knowledge_lockout_after,
        window=timedelta(seconds=settings.knowledge_window_s),
        lockout=timedelta(seconds=settings.knowledge_lockout_s),
    )


@dataclass(frozen=True, slots=True)
class Factors:
    knowledge: KnowledgeFactors
    codes: OneTimeCodes
    results: CallFactors = field(default_factory=CallFactors)
    metrics: FactorMetrics | None = None
    """Also handed to the eID sessions, so that every factor counts in one registry."""

    @classmethod
    def from_settings(
        cls,
        store: StoreCore,
        settings: Settings,
        *,
        hasher: SecretHasher | None = None,
        notifiers: dict[str, Notifier] | None = None,
        metrics: FactorMetrics | None = None,
    ) -> Factors:
        key = (
            settings.otp_key.get_secret_value().encode()
            if settings.otp_key is not None
            else secrets.token_bytes(32)
        )
        otp = OtpSettings(
            ttl=timedelta(seconds=settings.otp_ttl_s),
            attempts=settings.otp_attempts,
            max_sends=settings.knowledge_attempts_per_call,
        )
        return cls(
            KnowledgeFactors(store, hasher=hasher, limits=limits_from(settings), metrics=metrics),
            OneTimeCodes(
                store,
                key=key,
                notifiers=notifiers_from(settings) if notifiers is None else notifiers,
                settings=otp,
                metrics=metrics,
            ),
            metrics=metrics,
        )
