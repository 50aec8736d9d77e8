"""The service app over HTTP: probes, metrics, opening and following calls, scopes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api.conftest import headers, upload, vctk
from fastapi.testclient import TestClient

from voiceauth.factors.results import FactorResult
from voiceauth.store import VoiceprintStore

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def test_probes_and_metrics(service_client: TestClient) -> None:
    assert service_client.get("/healthz").json() == {"status": "ok"}
    ready = service_client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    service_client.app.state.calls.draining = True  # type: ignore[attr-defined]
    draining = service_client.get("/readyz")
    assert draining.status_code == 503 and draining.json()["draining"] is True
    service_client.app.state.calls.draining = False  # type: ignore[attr-defined]
    service_client.post("/calls", json={"call_id": "m1"}, headers=headers("ivr"))
    text = service_client.get("/metrics").text
    assert 'voiceauth_calls_total{transport="api"} 1.0' in text
    assert "voiceauth_active_calls 1.0" in text


def test_open_by_ani_claim_read_and_end(service_client: TestClient, store: VoiceprintStore) -> None:
    store.add_customer(actor="test", customer_id="C1", phones=["+46701234567"])
    opened = service_client.post(
        "/calls",
        json={"call_id": "k1", "ani": "+46701234567", "dnis": "+4680000"},
        headers=headers("ivr"),
    )
    assert opened.status_code == 201
    call = opened.json()["call"]
    assert call["customer_id"] == "C1" and call["voice_state"] == "no_consent"
    unknown_ani = service_client.post(
        "/calls", json={"call_id": "k2", "ani": "not-a-number"}, headers=headers("ivr")
    )
    assert unknown_ani.json()["call"]["customer_id"] is None
    again = service_client.post("/calls", json={"call_id": "k1"}, headers=headers("ivr"))
    assert again.status_code == 409
    claimed = service_client.post(
        "/calls/k2/claim", json={"customer_id": "nobody"}, headers=headers("ivr")
    )
    assert claimed.json()["voice_state"] == "not_enrolled"
    assert claimed.json()["reasons"] == ["customer not on file"]
    ended = service_client.post("/calls/k1/end", json={"reason": "hangup"}, headers=headers("ivr"))
    assert ended.json()["ended"] is True and ended.json()["end_reason"] == "hangup"
    assert service_client.get("/calls/k1", headers=headers("desk")).json()["ended"] is True
    assert service_client.get("/calls/zz", headers=headers("desk")).status_code == 404


def test_keys_and_bad_input(service_client: TestClient) -> None:
    assert service_client.post("/calls", json={"call_id": "a"}).status_code == 401
    bad_id = service_client.post("/calls", json={"call_id": "a b/../"}, headers=headers("ivr"))
    assert bad_id.status_code == 422
    bad_transport = service_client.post(
        "/calls", json={"call_id": "a", "transport": "carrier-pigeon"}, headers=headers("ivr")
    )
    assert bad_transport.status_code == 422
    service_client.post("/calls", json={"call_id": "s1"}, headers=headers("ivr"))
    assert service_client.get("/calls/s1/events", headers=headers("ivr")).status_code == 403


def test_agent_desk_follows_a_call_live(service_client: TestClient) -> None:
    service_client.post("/calls", json={"call_id": "e1"}, headers=headers("ivr"))
    with service_client.stream("GET", "/calls/e1/events", headers=headers("desk")) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "event: state"
        first = json.loads(next(lines).removeprefix("data: "))
        assert first["call_id"] == "e1" and first["voice_state"] == "collecting"


def test_a_call_shows_the_factors_it_passed(service_client: TestClient) -> None:
    service_client.post("/calls", json={"call_id": "f1"}, headers=headers("ivr"))
    results = service_client.app.state.factors.results  # type: ignore[attr-defined]
    results.record("f1", FactorResult("pin", False, datetime.now(UTC)))
    results.record("f1", FactorResult("eid", True, datetime.now(UTC)))
    read = service_client.get("/calls/f1", headers=headers("desk")).json()
    assert read["factors_verified"] == ["eid"]
    # no claimed customer: eID or not, the caller is not identified on this call
    assert read["level"]["level"] == 0 and read["level"]["route"] == "agent_unauthenticated"
    assert service_client.app.state.eid is not None  # eID sessions run in the lifespan


def test_no_voiceprint_from_a_clone(service_client: TestClient, shared_data: Path) -> None:
    consent = {"text_version": "v1", "channel": "agent", "evidence": "agent 7"}
    root = shared_data / "yourtts_zeroshot_clones"
    for customer, files in (
        ("real", vctk(shared_data, "p225")[3:]),
        ("cloned", sorted((root / "spoof_yourtts_exp4_scl").glob("**/*p225*.wav"))),
    ):
        service_client.post("/customers", json={"customer_id": customer}, headers=headers("desk"))
        service_client.post(f"/customers/{customer}/consent", json=consent, headers=headers("desk"))
        answer = service_client.post(
            f"/customers/{customer}/enrolment", files=upload(files), headers=headers("desk")
        ).json()
        assert answer["outcome"] == ("enrolled" if customer == "real" else "spoof"), answer
