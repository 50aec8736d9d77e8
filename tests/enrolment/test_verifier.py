"""The engine's consent gate and scoring on real speech."""

from __future__ import annotations

import numpy as np
import pytest

from voiceauth.audio.frontend import Speech
from voiceauth.enrolment import Enroller, EnrolmentOutcome
from voiceauth.scoring.calibration import Calibration
from voiceauth.store import VoiceprintStore
from voiceauth.verification import VerificationOutcome, Verifier
from voiceauth.verification.scorer import VoiceScorer

from .conftest import SpyEmbedder, chunks, consented


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_no_consent_not_enrolled_collecting_scored(
    store: VoiceprintStore, spy: SpyEmbedder, vctk_speech: dict[str, list[Speech]]
) -> None:
    p225, p226 = vctk_speech["p225"], vctk_speech["p226"]
    store.add_customer(actor="test", customer_id="nc")
    verifier = Verifier(store, spy)
    test_speech = np.concatenate(chunks(p225[8:]))
    assert verifier.verify("nc", test_speech, actor="ivr").outcome is VerificationOutcome.NO_CONSENT
    customer = consented(store)
    missing = verifier.verify(customer, test_speech, actor="ivr")
    assert missing.outcome is VerificationOutcome.NOT_ENROLLED and spy.calls == 0

    enrolled = Enroller(store, spy).enrol_speech(
        customer, chunks(p225[:8]), snr_db=30.0, clipping_ratio=0.0, actor="agent"
    )
    assert enrolled.outcome is EnrolmentOutcome.ENROLLED
    short = verifier.verify(customer, test_speech[:16_000], actor="ivr")
    assert short.outcome is VerificationOutcome.COLLECTING
    calibration = Calibration(
        model=verifier.model,
        features=("score",),
        weights=(10.0,),
        bias=-7.0,
        fitted_on="hand-made",
        created="2026-11-23",
    )
    calibrated = Verifier(
        store, spy, scorer=VoiceScorer(verifier.model, cosine_calibration=calibration)
    )
    same = calibrated.verify(customer, test_speech, actor="ivr", call_id="c-1")
    other = calibrated.verify(customer, np.concatenate(chunks(p226[:2])), actor="ivr")
    assert same.outcome is VerificationOutcome.SCORED
    assert same.score is not None and other.score is not None and same.score > other.score
    assert same.llr == pytest.approx(10.0 * same.score - 7.0)
    uses = [e for e in store.audit_entries(customer) if e.action == "voiceprint.use"]
    assert uses[-2].details["call_id"] == "c-1"
