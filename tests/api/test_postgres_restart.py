"""The API survives its PostgreSQL server going away and coming back, without a restart."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from store.conftest import Database

from voiceauth.api.state import ApiState

from .conftest import headers

DESK, IVR = headers("desk"), headers("ivr")
CONSENT = {"text_version": "vb-2026-01", "channel": "agent", "evidence": "agent 7 confirmed"}


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_requests_succeed_after_a_postgres_restart(client: TestClient, database: Database) -> None:
    assert database.server is not None
    assert client.post("/customers", json={"customer_id": "c-1"}, headers=DESK).status_code == 201
    database.server.halt()  # every pooled connection dies with the server
    try:
        down = client.get("/customers/c-1", headers=IVR)
        assert down.status_code == 503 and down.json() == {
            "detail": "store unavailable, retry later"
        }
    finally:
        database.server.resume()
    assert client.get("/customers/c-1", headers=IVR).json()["id"] == "c-1"
    assert client.post("/customers/c-1/consent", json=CONSENT, headers=DESK).status_code == 201
    database.server.halt()
    database.server.resume()  # a restart between two requests is not even noticed
    assert client.get("/customers/c-1/consents", headers=DESK).json()[0]["withdrawn_at"] is None
    state: ApiState = client.app.state.voiceauth  # type: ignore[attr-defined]
    state.store.verify_audit_chain()
    actions = [e.action for e in state.store.audit_entries()]
    assert actions == ["voiceprint.index", "customer.add", "consent.grant"]  # nothing twice
