"""Enrolment on real VCTK speech, on SQLite and PostgreSQL: gates, consent, spoof, refinement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voiceauth.audio.frontend import Speech
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad
from voiceauth.enrolment import Enroller, EnrolmentOutcome, EnrolmentPolicy, SpoofVerdict
from voiceauth.errors import UnknownCustomer
from voiceauth.store import VoiceprintStore

from .conftest import SpyEmbedder, chunks, consented, vctk_files

Speakers = dict[str, list[Speech]]


def enrol(enroller: Enroller, customer: str, speech: list[Speech], snr: float = 30.0):  # type: ignore[no-untyped-def]
    return enroller.enrol_speech(
        customer, chunks(speech), snr_db=snr, clipping_ratio=0.0, actor="agent:1"
    )


def test_one_speaker_enrols_two_are_refused(
    store: VoiceprintStore, spy: SpyEmbedder, vctk_speech: Speakers
) -> None:
    customer = consented(store)
    enroller = Enroller(store, spy)
    mixed = enrol(enroller, customer, vctk_speech["p225"][:5] + vctk_speech["p226"][:5])
    assert mixed.outcome is EnrolmentOutcome.INCONSISTENT_SPEAKER
    assert not mixed.stored and store.voiceprints(customer) == []
    one = enrol(enroller, customer, vctk_speech["p225"])
    assert one.outcome is EnrolmentOutcome.ENROLLED, one.reason
    assert one.min_window_cosine is not None and one.min_window_cosine >= 0.78
    [info] = store.voiceprints(customer)
    assert info.model == enroller.model and info.net_speech_s == pytest.approx(one.net_speech_s)
    assert [e.action for e in store.audit_entries(customer)][-1] == "voiceprint.save"


def test_no_consent_refuses_before_any_embedding(
    store: VoiceprintStore, spy: SpyEmbedder, vctk_speech: Speakers
) -> None:
    store.add_customer(actor="test", customer_id="nc")
    result = enrol(Enroller(store, spy), "nc", vctk_speech["p225"])
    assert result.outcome is EnrolmentOutcome.NO_CONSENT
    assert spy.calls == 0
    with pytest.raises(UnknownCustomer):
        enrol(Enroller(store, spy), "nobody", vctk_speech["p225"])


def test_number_gates_and_spoof_store_nothing(
    store: VoiceprintStore, spy: SpyEmbedder, vctk_speech: Speakers
) -> None:
    customer = consented(store)
    p225 = vctk_speech["p225"]
    short = enrol(Enroller(store, spy), customer, p225[:3])
    assert short.outcome is EnrolmentOutcome.INSUFFICIENT_SPEECH
    noisy = enrol(Enroller(store, spy), customer, p225, snr=3.0)
    assert noisy.outcome is EnrolmentOutcome.LOW_QUALITY

    def flags_everything(speech: np.ndarray, sample_rate: int) -> SpoofVerdict:
        assert sample_rate == 16_000 and speech.dtype == np.float32
        return SpoofVerdict(spoof=True, llr=-4.0)

    spoof = enrol(Enroller(store, spy, countermeasure=flags_everything), customer, p225)
    assert spoof.outcome is EnrolmentOutcome.SPOOF
    assert spy.calls == 0 and store.voiceprints(customer) == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_active_enrolment_from_files_then_refinement(
    store: VoiceprintStore,
    spy: SpyEmbedder,
    vad: SileroVad,
    shared_data: Path,
    vctk_speech: Speakers,
) -> None:
    customer = consented(store)
    policy = EnrolmentPolicy(max_weight_s=40.0)
    enroller = Enroller(store, spy, policy=policy)
    audio = [load_audio(p) for p in vctk_files(shared_data, "p225")[:7]]
    result = enroller.enrol_recordings(customer, audio, vad, actor="agent:1")
    assert result.outcome is EnrolmentOutcome.ENROLLED, result.reason
    before = store.load_voiceprint(customer, enroller.model, actor="test")
    assert before is not None

    other = enroller.refine(
        customer,
        chunks(vctk_speech["p226"][:3]),
        call_id="call-9",
        snr_db=30.0,
        clipping_ratio=0.0,
        actor="system:refine",
    )
    assert other.outcome is EnrolmentOutcome.INCONSISTENT_SPEAKER
    refined = enroller.refine(
        customer,
        chunks(vctk_speech["p225"][7:]),
        call_id="call-10",
        snr_db=25.0,
        clipping_ratio=0.0,
        actor="system:refine",
    )
    assert refined.outcome is EnrolmentOutcome.REFINED, refined.reason
    [info] = store.voiceprints(customer)
    assert info.source_call_ids == ("call-10",)
    assert info.net_speech_s == pytest.approx(40.0)
    assert info.snr_db is not None and info.snr_db <= 25.0  # the worse of print and call
    after = store.load_voiceprint(customer, enroller.model, actor="test")
    assert after is not None
    norms = np.linalg.norm(before.vector) * np.linalg.norm(after.vector)
    moved = float(np.dot(before.vector, after.vector) / norms)
    assert 0.95 < moved < 0.9999  # it moved, by at most a quarter of the way
    saves = [e for e in store.audit_entries(customer) if e.action == "voiceprint.save"]
    assert [s.actor for s in saves] == ["agent:1", "system:refine"]
    assert saves[-1].details["replaced"] is True
