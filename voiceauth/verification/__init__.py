"""Verification behind the consent gate: `Verifier.verify` answers no_consent, not_enrolled,
collecting, or a score (and an LLR when calibrated)."""

from voiceauth.verification.verifier import VerificationOutcome, VerificationResult, Verifier

__all__ = ["VerificationOutcome", "VerificationResult", "Verifier"]
