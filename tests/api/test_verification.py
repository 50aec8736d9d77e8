"""Verification of uploaded speech and the retention job through the API, on real speech."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.io import wavfile
from store.helpers import FakeClock

from voiceauth.api import create_app
from voiceauth.api.state import ApiState
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore

from .conftest import LINES, headers, upload, vctk

DPO, DESK, IVR = headers("dpo"), headers("desk"), headers("ivr")
CONSENT = {"text_version": "vb-2026-01", "channel": "agent", "evidence": "agent 7 confirmed"}


@pytest.fixture
def calibrated(
    store: VoiceprintStore, ge2e: Ge2eEmbedder, vad: SileroVad, tmp_path: Path
) -> Iterator[TestClient]:
    """An app with the calibration shipped for GE2E on telephone audio (its default)."""
    settings = Settings(home=tmp_path, api_keys=",".join(LINES))  # type: ignore[arg-type]
    app = create_app(settings, store, embedder=ge2e, vad=vad)
    with TestClient(app) as opened:
        yield opened


def _one_second(path: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The first second of a real recording, as an upload (too little speech to score)."""
    audio = load_audio(path)
    pcm = (audio.samples[: audio.sample_rate] * 32767).astype(np.int16)
    out = io.BytesIO()
    wavfile.write(out, audio.sample_rate, pcm)
    return [("files", ("short.wav", out.getvalue(), "audio/wav"))]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_verify_outcomes_and_calibrated_llr(calibrated: TestClient, shared_data: Path) -> None:
    client = calibrated
    p225, p226 = vctk(shared_data, "p225"), vctk(shared_data, "p226")
    client.post("/customers", json={"customer_id": "c-v"}, headers=DESK)
    url = "/customers/c-v/verification"
    refused = client.post(url, files=upload(p225[8:]), headers=IVR).json()
    assert refused["outcome"] == "no_consent" and refused["llr"] is None
    client.post("/customers/c-v/consent", json=CONSENT, headers=DESK)
    assert client.post(url, files=upload(p225[8:]), headers=IVR).json()["outcome"] == (
        "not_enrolled"
    )
    enrolled = client.post("/customers/c-v/enrolment", files=upload(p225[:7]), headers=DESK)
    assert enrolled.json()["outcome"] == "enrolled"
    short = client.post(url, files=_one_second(p225[8]), headers=IVR).json()
    assert short["outcome"] == "collecting" and short["net_speech_s"] < 3.0
    same = client.post(url, files=upload(p225[8:]), data={"call_id": "c-42"}, headers=IVR)
    other = client.post(url, files=upload(p226[:3]), headers=DESK).json()
    assert same.status_code == 200, same.text
    assert same.json()["outcome"] == other["outcome"] == "scored"
    assert same.json()["llr"] > 0 > other["llr"]
    assert "score" not in same.json()  # raw scores never leave the engine
    state: ApiState = client.app.state.voiceauth  # type: ignore[attr-defined]
    use = [e for e in state.store.audit_entries("c-v") if e.action == "voiceprint.use"]
    assert [e.details["call_id"] for e in use] == [None, "c-42", None]
    assert client.post(url, files=upload(p225[8:]), headers=DPO).status_code == 403
    assert client.post("/customers/nobody/verification", files=upload(p225[8:]),
                       headers=IVR).json() == {"detail": "not found"}  # fmt: skip


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_retention_job_deletes_unused_and_follows_the_cohort(
    client: TestClient, shared_data: Path, clock: FakeClock
) -> None:
    client.post("/customers", json={"customer_id": "c-r"}, headers=DESK)
    client.post("/customers/c-r/consent", json=CONSENT, headers=DESK)
    url = "/customers/c-r/enrolment"
    assert client.post(url, files=upload(vctk(shared_data, "p225")[:7]), headers=DESK).json()[
        "stored"
    ]
    state: ApiState = client.app.state.voiceauth  # type: ignore[attr-defined]
    assert "c-r" in state.cohort.index
    assert client.post("/retention", json={"unused_days": 30}, headers=DESK).status_code == 403
    assert client.post("/retention", json={"unused_days": 0}, headers=DPO).status_code == 422
    kept = client.post("/retention", json={"unused_days": 30}, headers=DPO).json()
    assert kept["voiceprints_deleted"] == 0
    clock.advance(days=31)
    purged = client.post("/retention", json={"unused_days": 30}, headers=DPO).json()
    assert purged["voiceprints_deleted"] == 1
    assert client.get("/customers/c-r/voiceprints", headers=IVR).json() == []
    assert "c-r" not in state.cohort.index
    runs = [e for e in state.store.audit_entries() if e.action == "retention.run"]
    assert [(e.actor, e.details["voiceprints_deleted"]) for e in runs] == [
        ("api:dpo", 0),
        ("api:dpo", 1),
    ]
    assert state.store.audit_entries("c-r")[-1].action == "voiceprint.expire"
