"""Customers, consent, enrolment from uploaded real speech, rights and the watchlist via HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from voiceauth.api.state import ApiState
from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import load_audio

from .conftest import headers, upload, vctk

DPO, DESK, IVR = headers("dpo"), headers("desk"), headers("ivr")
CONSENT = {"text_version": "vb-2026-01", "channel": "ivr_dtmf", "evidence": "DTMF 1, call c-7"}


def test_customer_consent_and_errors_on_both_backends(client: TestClient) -> None:
    body = {"customer_id": "c-1", "phones": ["+4930123456"]}
    created = client.post("/customers", json=body, headers=DESK)
    assert created.status_code == 201 and created.json()["phones"] == ["+4930123456"]
    assert client.post("/customers", json=body, headers=DESK).json() == {"detail": "already exists"}
    assert client.get("/phones/+4930123456", headers=IVR).json()["id"] == "c-1"
    missing = client.get("/customers/nobody", headers=IVR)
    assert missing.status_code == 404 and missing.json() == {"detail": "not found"}
    bad = client.post("/customers", json={"phones": ["0301234"]}, headers=DESK)
    assert bad.status_code == 422 and bad.json() == {"detail": "invalid input"}
    assert client.post("/customers/c-1/consent", json=CONSENT, headers=IVR).status_code == 201
    assert client.delete("/customers/c-1/consent", headers=IVR).json()["voiceprints"] == 0
    again = client.delete("/customers/c-1/consent", headers=IVR)
    assert again.status_code == 409 and again.json() == {"detail": "no active consent"}
    [consent] = client.get("/customers/c-1/consents", headers=DESK).json()
    assert consent["withdrawn_at"] is not None


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_enrol_status_export_withdraw_erase(client: TestClient, shared_data: Path) -> None:
    p225, p226 = vctk(shared_data, "p225"), vctk(shared_data, "p226")
    client.post("/customers", json={"customer_id": "c-2"}, headers=DESK)
    url = "/customers/c-2/enrolment"
    refused = client.post(url, files=upload(p225[:1]), headers=DESK).json()
    assert refused == {"outcome": "no_consent", "reason": "no consent", "stored": False,
                       "net_speech_s": 0.0}  # fmt: skip
    client.post("/customers/c-2/consent", json=CONSENT, headers=DESK)
    mixed = client.post(url, files=upload(p225[:5] + p226[:5]), headers=DESK).json()
    assert mixed["outcome"] == "inconsistent_speaker" and not mixed["stored"]
    short = client.post(url, files=upload(p225[:2]), headers=IVR).json()
    assert short["outcome"] == "insufficient_speech"
    enrolled = client.post(url, files=upload(p225[:7]), headers=IVR).json()
    assert enrolled["outcome"] == "enrolled" and enrolled["net_speech_s"] >= 20
    state: ApiState = client.app.state.voiceauth  # type: ignore[attr-defined]
    assert "c-2" in state.cohort.index
    [status] = client.get("/customers/c-2/voiceprints", headers=IVR).json()
    assert status["model"].startswith("ge2e@") and "vector" not in status
    exported = client.get("/customers/c-2/export", headers=DPO).json()
    assert exported["customer"]["id"] == "c-2" and len(exported["voiceprints"]) == 1
    assert client.delete("/customers/c-2/consent", headers=DESK).json()["voiceprints"] == 1
    assert client.get("/customers/c-2/voiceprints", headers=IVR).json() == []
    assert "c-2" not in state.cohort.index
    erased = client.delete("/customers/c-2", headers=DPO).json()
    assert erased["consents"] == 1
    assert client.get("/customers/c-2", headers=DPO).status_code == 404
    broken = client.post("/customers", json={"customer_id": "c-3"}, headers=DESK)
    assert broken.status_code == 201
    client.post("/customers/c-3/consent", json=CONSENT, headers=DESK)
    junk = [("files", ("x.wav", b"RIFF not really audio", "audio/wav"))]
    unusable = client.post("/customers/c-3/enrolment", files=junk, headers=DESK)
    assert unusable.status_code == 422 and unusable.json() == {"detail": "unusable audio"}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_watchlist_add_search_list_remove(client: TestClient, shared_data: Path) -> None:
    p226 = vctk(shared_data, "p226")
    form = {"reason": "account takeover", "case_id": "F-9"}
    added = client.post("/watchlist", files=upload(p226[:2]), data=form, headers=DPO)
    assert added.status_code == 201, added.text
    entry = added.json()
    assert client.get("/watchlist", headers=DPO).json() == [entry]
    state: ApiState = client.app.state.voiceauth  # type: ignore[attr-defined]
    rate = state.embedder.sample_rate
    speech = extract_speech(load_audio(p226[5]), state.vad, sample_rate=rate).samples
    [hit] = state.watchlist.search(state.embedder.embed(speech), threshold=0.6)
    assert hit.record_id == entry["id"]
    assert client.delete(f"/watchlist/{entry['id']}", headers=DPO).status_code == 204
    assert state.watchlist.search(state.embedder.embed(speech), threshold=0.0) == []
    assert client.get("/watchlist", headers=DPO).json() == []
    assert client.delete(f"/watchlist/{entry['id']}", headers=DPO).status_code == 404
