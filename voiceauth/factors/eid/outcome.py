"""What an eID check comes to: one status, the subject when approved, a reason when not.

Both providers (CIBA, BankID) end in the same five states, so the IVR, the desk and the
fusion read one vocabulary whatever the method.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voiceauth.errors import VoiceauthError


class EidStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    ERROR = "error"


FINAL = frozenset({EidStatus.APPROVED, EidStatus.DENIED, EidStatus.EXPIRED, EidStatus.ERROR})


@dataclass(frozen=True, slots=True)
class EidResult:
    """subject: the verified identifier (approved only); reason: why not (never a secret)."""

    status: EidStatus
    subject: str | None = None
    reason: str | None = None

    @classmethod
    def approved(cls, subject: str) -> EidResult:
        return cls(EidStatus.APPROVED, subject=subject)

    @classmethod
    def denied(cls, reason: str = "the user declined") -> EidResult:
        return cls(EidStatus.DENIED, reason=reason)

    @classmethod
    def expired(cls, reason: str = "the request expired") -> EidResult:
        return cls(EidStatus.EXPIRED, reason=reason)

    @classmethod
    def error(cls, reason: str) -> EidResult:
        return cls(EidStatus.ERROR, reason=reason)


class EidError(VoiceauthError):
    """A provider refused a request or answered something that is not its protocol."""


class IdTokenError(EidError, ValueError):
    """An ID token that must not be trusted: the message names the check that failed."""
