from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from voiceauth.api import errors
from voiceauth.api.keys import ApiKeys, key_digest
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.errors import UnknownCall
from voiceauth.factors import HttpSmsNotifier, SecretHasher
from voiceauth.factors.routes import factors_router
from voiceauth.factors.service import Factors
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore

from .conftest import PHONE
from .receivers import sms_gateway

KEYS = {"ivr": ("telephony", "ivr-key"), "desk": ("agent", "desk-key"), "dpo": ("admin", "dpo")}


def as_(name: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[name][1]}


class Calls:
    """The call service's lookup, with two open calls."""

    def __init__(self) -> None:
        self.calls = {
            "c-1": CallSnapshot(
                "c-1", "api", VoiceState.COLLECTING, ani=PHONE, customer_id="cust-1"
            ),
            "c-2": CallSnapshot("c-2", "api", VoiceState.COLLECTING, ani=None, customer_id=None),
        }

    def snapshot(self, call_id: str) -> CallSnapshot:
        if call_id not in self.calls:
            raise UnknownCall(call_id)
        return self.calls[call_id]


@pytest.fixture
def factors(store: VoiceprintStore, hasher: SecretHasher) -> Factors:
    return Factors.from_settings(store, Settings(), hasher=hasher, notifiers={})


@pytest.fixture
def client(factors: Factors, customer: str) -> Iterator[TestClient]:
    app = FastAPI()
    lines = ",".join(f"{n}:{scope}:{key_digest(key)}" for n, (scope, key) in KEYS.items())
    app.state.voiceauth = SimpleNamespace(keys=ApiKeys.parse(lines))
    errors.install(app)
    app.include_router(factors_router(Calls(), factors))
    with TestClient(app) as opened:
        yield opened


def test_knowledge_over_rest(client: TestClient, factors: Factors, store: VoiceprintStore) -> None:
    put = client.put("/customers/cust-1/knowledge/pin", json={"value": "4711"}, headers=as_("desk"))
    assert put.status_code == 204
    answers = [
        client.post("/calls/c-1/knowledge", json={"kind": "pin", "value": v}, headers=as_("ivr"))
        for v in ("0000", "not-a-pin", "4711")
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json() for a in answers] == [{"verified": False}] * 2 + [{"verified": True}]
    assert factors.results.verified("c-1") == ("pin",)
    assert [r.verified for r in factors.results.results("c-1")] == [False, False, True]
    listed = client.get("/customers/cust-1/knowledge", headers=as_("desk")).json()
    assert [(f["kind"], f["question"]) for f in listed] == [("pin", None)]
    assert "4711" not in repr([e.details for e in store.audit_entries()])


def test_failures_look_alike(client: TestClient) -> None:
    client.put("/customers/cust-1/knowledge/pin", json={"value": "4711"}, headers=as_("desk"))
    bodies = [
        client.post(
            "/calls/c-1/knowledge", json={"kind": "dob", "value": "1980-01-01"}, headers=as_("ivr")
        ),  # not enrolled
        client.post(
            "/calls/c-1/knowledge", json={"kind": "answer", "value": "x"}, headers=as_("ivr")
        ),  # no question
        client.post(
            "/calls/c-2/knowledge", json={"kind": "pin", "value": "4711"}, headers=as_("ivr")
        ),  # no claimed customer
        client.post(
            "/calls/c-1/knowledge", json={"kind": "pin", "value": "x" * 10_000}, headers=as_("ivr")
        ),  # absurd input: still a plain failure, no echo
    ]
    assert [(b.status_code, b.content) for b in bodies] == [(200, b'{"verified":false}')] * 4
    # the call has spent its budget: even the right PIN is "not verified" now
    right = client.post(
        "/calls/c-1/knowledge", json={"kind": "pin", "value": "4711"}, headers=as_("ivr")
    )
    assert right.json() == {"verified": False}


def test_scopes(client: TestClient) -> None:
    body = {"value": "4711"}
    assert client.put("/customers/cust-1/knowledge/pin", json=body).status_code == 401
    assert (
        client.put("/customers/cust-1/knowledge/pin", json=body, headers=as_("ivr")).status_code
        == 403
    )
    assert (
        client.put("/customers/cust-1/knowledge/pin", json=body, headers=as_("dpo")).status_code
        == 204
    )
    assert (
        client.post("/calls/c-1/knowledge", json={"kind": "pin", "value": "1"}).status_code == 401
    )
    assert (
        client.post(
            "/calls/nope/knowledge", json={"kind": "pin", "value": "1"}, headers=as_("ivr")
        ).status_code
        == 404
    )
    assert (
        client.put("/customers/nobody/knowledge/pin", json=body, headers=as_("desk")).status_code
        == 404
    )
    bad = client.put(
        "/customers/cust-1/knowledge/pin", json={"value": "12345678901234"}, headers=as_("desk")
    )
    assert bad.status_code == 422 and "12345678901234" not in bad.text


def test_otp_over_rest(store: VoiceprintStore, customer: str, hasher: SecretHasher) -> None:
    with sms_gateway() as (gateway, url):
        factors = Factors.from_settings(
            store,
            Settings(),
            hasher=hasher,
            notifiers={"sms": HttpSmsNotifier(url, sender="BANK")},
        )
        app = FastAPI()
        lines = ",".join(f"{n}:{scope}:{key_digest(key)}" for n, (scope, key) in KEYS.items())
        app.state.voiceauth = SimpleNamespace(keys=ApiKeys.parse(lines))
        errors.install(app)
        app.include_router(factors_router(Calls(), factors))
        with TestClient(app) as client:
            put = client.put(
                "/customers/cust-1/otp-destination",
                json={"channel": "sms", "address": "+4915112345678"},
                headers=as_("desk"),
            )
            assert put.status_code == 204
            assert client.post("/calls/c-2/otp", headers=as_("ivr")).json() == {"sent": False}
            assert client.post("/calls/c-1/otp", headers=as_("ivr")).json() == {"sent": True}
            found = re.search(r"\d{6}", gateway.requests[0][1]["text"])
            assert found is not None
            code = found.group(0)
            check = client.post("/calls/c-1/otp/check", json={"code": code}, headers=as_("ivr"))
            assert check.json() == {"verified": True}
            again = client.post("/calls/c-1/otp/check", json={"code": code}, headers=as_("ivr"))
            assert again.json() == {"verified": False}
            gateway.status = 503
            assert client.post("/calls/c-1/otp", headers=as_("ivr")).status_code == 502
    assert factors.results.verified("c-1") == ("otp",)


def test_the_service_app_mounts_the_factor_routes(store: VoiceprintStore, tmp_path: Path) -> None:
    from voiceauth.service.app import create_service_app

    app = create_service_app(
        Settings(
            home=tmp_path,
            cm="none",
            api_keys=SecretStr(f"ivr:telephony:{key_digest('ivr-key')}"),
        ),
        store,
    )
    paths = set(app.openapi()["paths"])
    assert {
        "/calls/{call_id}/knowledge",
        "/calls/{call_id}/otp",
        "/calls/{call_id}/otp/check",
        "/customers/{customer_id}/knowledge/{kind}",
        "/customers/{customer_id}/otp-destination",
    } <= paths
