"""The sequential decision rule, case by case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voiceauth.calls.decision import DecisionPolicy, decide
from voiceauth.calls.snapshot import VoiceState
from voiceauth.errors import ConfigError
from voiceauth.fusion.model import SpoofAwareFusion

FUSION = Path(__file__).resolve().parents[2] / "models/fusion/ge2e-lfcc-lr-telephony.fusion.json"
POLICY = DecisionPolicy(accept_llr=2.0, reject_llr=-2.0, spoof_llr=-1.5, min_speech_s=3.0)


@pytest.mark.parametrize(
    ("voice", "liveness", "speech", "expected"),
    [
        (9.0, 3.0, 2.9, VoiceState.COLLECTING),  # never before the minimum speech
        (9.0, -5.0, 2.9, VoiceState.COLLECTING),
        (9.0, -5.0, 4.0, VoiceState.SPOOF),  # a spoof whatever the voice says
        (None, -1.5, 4.0, VoiceState.SPOOF),
        (None, 1.0, 4.0, VoiceState.COLLECTING),
        (-2.0, 1.0, 4.0, VoiceState.MISMATCH),
        (0.0, 1.0, 4.0, VoiceState.COLLECTING),  # between the thresholds: listen on
        (2.0, 1.0, 4.0, VoiceState.MATCH),
        (2.5, None, 4.0, VoiceState.COLLECTING),  # liveness still pending
    ],
)
def test_rule(
    voice: float | None, liveness: float | None, speech: float, expected: VoiceState
) -> None:
    verdict = decide(
        POLICY, voice_llr=voice, liveness_llr=liveness, net_speech_s=speech, liveness_expected=True
    )
    assert verdict.state is expected and verdict.reasons


def test_without_a_countermeasure_a_match_needs_no_liveness() -> None:
    verdict = decide(
        POLICY, voice_llr=2.5, liveness_llr=None, net_speech_s=4.0, liveness_expected=False
    )
    assert verdict.state is VoiceState.MATCH
    assert verdict.reasons == ("voice matches the enrolled customer",)


def test_policy_from_thresholds_and_its_checks(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"thresholds": {"fmr_0.01": 1.5, "fmr_0.001": 4.0}}))
    assert DecisionPolicy.from_thresholds(path).accept_llr == 1.5
    assert DecisionPolicy.from_thresholds(path, fmr="fmr_0.001").accept_llr == 4.0
    with pytest.raises(ConfigError, match="fmr_0.5"):
        DecisionPolicy.from_thresholds(path, fmr="fmr_0.5")
    with pytest.raises(ConfigError, match="below accept_llr"):
        DecisionPolicy(accept_llr=-3.0)


@pytest.mark.parametrize(
    ("voice", "liveness", "expected"),
    [
        (8.0, 5.0, VoiceState.MATCH),  # the fusion accepts
        (4.7, 2.5, VoiceState.COLLECTING),  # fused LLR between its thresholds
        (-5.7, 7.3, VoiceState.MISMATCH),  # the voice alone is clearly against
        (8.0, -3.0, VoiceState.SPOOF),  # liveness clearly against, whatever the voice
        (8.0, None, VoiceState.COLLECTING),  # no liveness score yet
    ],
)
def test_with_the_shipped_spoof_aware_fusion(
    voice: float, liveness: float | None, expected: VoiceState
) -> None:
    fusion = SpoofAwareFusion.load(FUSION)
    verdict = decide(
        POLICY,
        voice_llr=voice,
        liveness_llr=liveness,
        net_speech_s=5.0,
        liveness_expected=True,
        fusion=fusion,
    )
    assert verdict.state is expected, verdict.reasons


def test_a_match_needs_liveness_leaning_live() -> None:
    doubtful = decide(
        POLICY, voice_llr=5.0, liveness_llr=-0.5, net_speech_s=5.0, liveness_expected=True
    )
    assert doubtful.state is VoiceState.COLLECTING and "doubtful" in doubtful.reasons[1]
    with pytest.raises(ConfigError, match="live_llr"):
        DecisionPolicy(spoof_llr=1.0, live_llr=0.0)
