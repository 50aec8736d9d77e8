"""The call engine's scorer and decision policy, from the files shipped for the model."""

from __future__ import annotations

from pathlib import Path

from voiceauth.calls.decision import DecisionPolicy
from voiceauth.index.cohort import CohortIndex
from voiceauth.scoring.shipped import shipped_calibrations
from voiceauth.verification.scorer import VoiceScorer


def call_scoring(
    models_dir: Path, model: str, cohort: CohortIndex | None
) -> tuple[VoiceScorer, DecisionPolicy]:
    """A scorer with the shipped calibrations, and a policy accepting at their threshold for
    FMR 1 % (the default policy's LLR without thresholds)."""
    shipped = shipped_calibrations(models_dir, model)
    scorer = VoiceScorer(
        model, calibration=shipped.normalised, cosine_calibration=shipped.cosine, cohort=cohort
    )
    policy = (
        DecisionPolicy.from_thresholds(shipped.thresholds)
        if shipped.thresholds
        else DecisionPolicy()
    )
    return scorer, policy
