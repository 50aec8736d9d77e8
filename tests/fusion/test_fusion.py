"""Spoof-aware fusion: fitting on synthetic scores, the decision rules, the JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from voiceauth.errors import ConfigError, EmbedderMismatch
from voiceauth.fusion.decision import Outcome
from voiceauth.fusion.fit import fit_fusion, lower_threshold, upper_threshold
from voiceauth.fusion.model import OperatingPoints, SpoofAwareFusion, Thresholds
from voiceauth.fusion.softmin import SoftMinParams, fit_softmin, fused_llr

N_TARGET, N_NON, N_SPOOF = 400, 4000, 400


def synthetic(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clones score high on voice (like targets) and low on liveness; impostors the reverse."""
    rng = np.random.default_rng(seed)
    voice = np.concatenate(
        [rng.normal(4, 2, N_TARGET), rng.normal(-6, 3, N_NON), rng.normal(3, 2, N_SPOOF)]
    )
    cm = np.concatenate(
        [rng.normal(2, 1.5, N_TARGET), rng.normal(2, 1.5, N_NON), rng.normal(-3, 2, N_SPOOF)]
    )
    target = np.zeros(voice.size, dtype=bool)
    target[:N_TARGET] = True
    spoof = np.zeros(voice.size, dtype=bool)
    spoof[-N_SPOOF:] = True
    return voice, cm, target, spoof


@pytest.fixture(scope="module")
def fusion() -> SpoofAwareFusion:
    voice, cm, target, spoof = synthetic()
    return fit_fusion(
        voice,
        cm,
        target,
        spoof,
        voice_model="ge2e@abc",
        cm_model="lfcc-lr@def",
        fitted_on="synthetic",
        created="2026-11-23",
    )


def test_product_rule_is_the_soft_minimum_of_calibrated_llrs() -> None:
    rule = SoftMinParams(w_voice=1.0, w_cm=1.0, b_nontarget=np.log(0.5), b_spoof=np.log(0.5))
    # -log(0.5 e^-v + 0.5 e^-c), by hand for v = 0, c = log 3: -log(0.5 + 1/6) = log 1.5
    assert fused_llr(rule, 0.0, np.log(3.0)) == pytest.approx(np.log(1.5))
    # never above the weaker of the two (plus log 2)
    assert fused_llr(rule, 50.0, -4.0) == pytest.approx(-4.0 + np.log(2.0), abs=1e-9)


def test_fit_beats_the_summing_rule_on_held_out_scores(fusion: SpoofAwareFusion) -> None:
    voice, cm, target, spoof = synthetic(seed=1)
    fused = fusion.score(voice, cm)
    summed = voice + cm

    def spoof_accepts(scores: np.ndarray) -> float:
        at = upper_threshold(scores[~target & ~spoof], 0.01)
        return float(np.mean(scores[spoof] >= at))

    assert spoof_accepts(fused) < spoof_accepts(summed)
    assert spoof_accepts(fused) < 0.05
    assert fusion.params.w_voice > 0 and fusion.params.w_cm > 0


def test_fit_recovers_the_rule_from_its_own_data() -> None:
    """Scores drawn so the product rule is exact: the fit lands near w = 1 and equal priors."""
    rng = np.random.default_rng(3)
    # Gaussian LLRs with variance 2|mean| are calibrated
    n = 20000
    v_t, v_n = rng.normal(3, np.sqrt(6), n), rng.normal(-3, np.sqrt(6), n)
    c_b, c_s = rng.normal(3, np.sqrt(6), n), rng.normal(-3, np.sqrt(6), n)
    voice = np.concatenate([v_t, v_n, rng.permutation(v_t)])
    cm = np.concatenate([c_b, rng.permutation(c_b), c_s])
    target = np.arange(3 * n) < n
    spoof = np.arange(3 * n) >= 2 * n
    params = fit_softmin(voice, cm, target, spoof)
    assert params.w_voice == pytest.approx(1.0, abs=0.1)
    assert params.w_cm == pytest.approx(1.0, abs=0.1)
    assert params.b_nontarget == pytest.approx(params.b_spoof, abs=0.15)


def test_spoof_dominates_and_is_not_a_reject(fusion: SpoofAwareFusion) -> None:
    decision = fusion.decide(voice_llr=20.0, cm_llr=fusion.thresholds.spoof - 1.0)
    assert decision.outcome is Outcome.SPOOF
    assert decision.outcome == "spoof"
    assert "looks synthetic" in decision.reasons[0]
    assert any("clone" in r for r in decision.reasons)
    assert fusion.decide(None, fusion.thresholds.spoof).outcome is Outcome.SPOOF


def test_either_score_clearly_against_rejects(fusion: SpoofAwareFusion) -> None:
    # a perfect liveness score cannot rescue a voice that does not match
    voice_against = fusion.decide(voice_llr=-15.0, cm_llr=50.0)
    assert voice_against.outcome is Outcome.REJECT
    assert voice_against.reasons == ("voice does not match the enrolled customer",)
    # nor a perfect voice match a doubtful liveness score above the spoof threshold
    cm_doubt = fusion.thresholds.spoof + 0.01
    for voice in (5.0, 50.0, 500.0):
        decision = fusion.decide(voice_llr=voice, cm_llr=cm_doubt)
        assert decision.outcome in (Outcome.REJECT, Outcome.UNDECIDED)
        assert decision.score is not None and decision.score < fusion.thresholds.accept


def test_accept_needs_both_and_the_band_is_undecided(fusion: SpoofAwareFusion) -> None:
    accepted = fusion.decide(voice_llr=15.0, cm_llr=6.0)
    assert accepted.outcome is Outcome.ACCEPT
    assert accepted.reasons == (
        "voice matches the enrolled customer",
        "liveness check: sounds live",
    )
    pending = fusion.decide(voice_llr=15.0, cm_llr=None)
    assert pending.outcome is Outcome.UNDECIDED
    assert pending.reasons[-1] == "liveness check pending"
    assert fusion.decide(None, None).outcome is Outcome.UNDECIDED
    # find a voice LLR whose fused score lies strictly inside (reject, accept)
    grid = np.linspace(-10, 15, 2001)
    fused = fusion.score(grid, 3.0)
    inside = grid[(fused > fusion.thresholds.reject) & (fused < fusion.thresholds.accept)]
    assert inside.size > 0
    middle = fusion.decide(float(inside[inside.size // 2]), 3.0)
    assert middle.outcome is Outcome.UNDECIDED
    assert middle.reasons == ("evidence not yet clear: keep listening",)


def test_thresholds_meet_their_operating_points(fusion: SpoofAwareFusion) -> None:
    voice, cm, target, spoof = synthetic()
    fused = fusion.score(voice, cm)
    points = fusion.operating_points
    assert np.mean(fused[~target & ~spoof] >= fusion.thresholds.accept) <= points.accept_fmr
    assert np.mean(fused[spoof] >= fusion.thresholds.accept) <= points.accept_spoof_rate
    assert np.mean(fused[target] <= fusion.thresholds.reject) <= points.reject_fnmr
    assert np.mean(cm[target] <= fusion.thresholds.spoof) <= points.spoof_bonafide_rate
    assert fusion.thresholds.reject <= fusion.thresholds.accept


def test_unresolvable_rates_fall_back_to_beyond_every_trial() -> None:
    values = np.array([0.0, 1.0, 2.0])
    assert upper_threshold(values, 0.01) > 2.0
    assert lower_threshold(values, 0.01) < 0.0
    many = np.arange(1000, dtype=np.float64)
    assert np.mean(many >= upper_threshold(many, 0.01)) == pytest.approx(0.01)


def test_json_round_trip_and_model_check(fusion: SpoofAwareFusion, tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    fusion.save(path)
    assert SpoofAwareFusion.load(path) == fusion
    fusion.check_models("ge2e@abc", "lfcc-lr@def")
    with pytest.raises(EmbedderMismatch, match="ecapa@1"):
        fusion.check_models("ecapa@1", "lfcc-lr@def")
    with pytest.raises(EmbedderMismatch, match="aasist-l@9"):
        fusion.check_models("ge2e@abc", "aasist-l@9")


def test_broken_files_are_named(fusion: SpoofAwareFusion, tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    fusion.save(path)
    doc = json.loads(path.read_text())
    doc["thresholds"]["reject"] = doc["thresholds"]["accept"] + 1
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="reject threshold .* is above accept"):
        SpoofAwareFusion.load(path)
    doc["surprise"] = 1
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=r"unknown fields \['surprise'\]"):
        SpoofAwareFusion.load(path)
    path.write_text(json.dumps({"kind": "voiceauth.calibration"}))
    with pytest.raises(ConfigError, match="kind voiceauth.fusion"):
        SpoofAwareFusion.load(path)


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="accept_fmr must be in"):
        OperatingPoints(accept_fmr=0.0)
    with pytest.raises(ConfigError, match="reject threshold"):
        Thresholds(accept=0.0, reject=1.0, spoof=-2.0)
    with pytest.raises(ValueError, match="need trials of every class"):
        fit_softmin([1.0, 2.0], [1.0, 2.0], [True, False], [False, False])
