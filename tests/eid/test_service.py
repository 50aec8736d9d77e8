"""EidSessions through the REST routes: IVR and agent start checks, CIBA (poll and ping) and
BankID run in the background, and the status is read back as the user decides."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from eid.bankid_fake import HAPPY, FakeBankIdServer, Step
from eid.oidc_harness import Harness
from eid.pki import TestCa
from voiceauth.api import errors
from voiceauth.api.keys import ApiKeys
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.errors import ConfigError, UnknownCall
from voiceauth.factors.eid.bankid import BankIdClient, mtls_client
from voiceauth.factors.eid.ciba import CibaClient, CibaConfig
from voiceauth.factors.eid.outcome import EidStatus
from voiceauth.factors.eid.routes import eid_router
from voiceauth.factors.eid.service import EidCheck, EidSessions, eid_sessions
from voiceauth.settings import Settings

IVR = {"X-API-Key": "ivr-key"}
AGENT = {"X-API-Key": "agent-key"}
KEYS = ",".join(
    f"{name}:{scope}:{hashlib.sha256(f'{name}-key'.encode()).hexdigest()}"
    for name, scope in (("ivr", "telephony"), ("agent", "agent"))
)
CUSTOMERS = {"cust-1": "DK-1007", "cust-2": "DK-1008", "cust-se": "199001011234", "cust-x": None}


class Calls:
    def __init__(self) -> None:
        self.calls = {
            f"call-{c}": CallSnapshot(f"call-{c}", "rtp", VoiceState.COLLECTING, customer_id=c)
            for c in CUSTOMERS
        }
        self.calls["call-anon"] = CallSnapshot("call-anon", "rtp", VoiceState.COLLECTING)

    def snapshot(self, call_id: str) -> CallSnapshot:
        if call_id not in self.calls:
            raise UnknownCall(call_id)
        return self.calls[call_id]


def build_app(sessions: EidSessions, *closers: Any) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await sessions.aclose()
        for closer in closers:
            await closer.aclose()

    app = FastAPI(lifespan=lifespan)
    app.state.voiceauth = SimpleNamespace(keys=ApiKeys.parse(KEYS))
    errors.install(app)
    app.include_router(eid_router(Calls(), sessions, CUSTOMERS.__getitem__))
    return app


def wait_status(read: Any, call_id: str, headers: dict[str, str], want: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        view: dict[str, Any] = read(f"/calls/{call_id}/eid", headers=headers).json()
        if view["status"] == want or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


@pytest.fixture
def ciba_app(harness: Harness) -> Iterator[tuple[TestClient, list[EidCheck]]]:
    http = httpx.AsyncClient(timeout=5)
    config = CibaConfig(harness.issuer, "voiceauth", client_secret=harness.client_secret)
    ended: list[EidCheck] = []
    sessions = EidSessions(ciba=CibaClient(config, http), on_result=ended.append)
    with TestClient(build_app(sessions, http)) as client:
        yield client, ended


def test_ivr_starts_ciba_and_the_caller_approves(
    harness: Harness, ciba_app: tuple[TestClient, list[EidCheck]]
) -> None:
    client, ended = ciba_app
    started = client.post("/calls/call-cust-1/eid", json={"method": "ciba"}, headers=IVR)
    assert started.status_code == 202
    view = started.json()
    assert view["status"] == "pending" and view["started_by"] == "ivr"
    assert len(view["binding_message"]) == 4 and view["binding_message"].isdigit()
    assert "reason" not in view
    again = client.post("/calls/call-cust-1/eid", json={}, headers=AGENT).json()
    assert again["binding_message"] == view["binding_message"], "one pending check per call"
    auth_req_id = harness.wait_pending("DK-1007")
    assert harness.request(auth_req_id)["bindingMessage"] == view["binding_message"]
    harness.admin("approve", auth_req_id=auth_req_id)
    assert wait_status(client.get, "call-cust-1", AGENT, "approved")["reason"] is None
    assert [(c.call_id, c.customer_id, c.status.value) for c in ended] == [
        ("call-cust-1", "cust-1", "approved")
    ]


def test_agent_sees_why_a_check_failed(
    harness: Harness, ciba_app: tuple[TestClient, list[EidCheck]]
) -> None:
    client, _ = ciba_app
    assert client.post("/calls/call-cust-2/eid", json={}, headers=AGENT).status_code == 202
    harness.admin("deny", auth_req_id=harness.wait_pending("DK-1008"))
    view = wait_status(client.get, "call-cust-2", AGENT, "denied")
    assert view["status"] == "denied" and view["started_by"] == "agent"
    assert view["reason"] == "the user declined"
    assert "reason" not in client.get("/calls/call-cust-2/eid", headers=IVR).json()


def test_refusals(ciba_app: tuple[TestClient, list[EidCheck]]) -> None:
    client, _ = ciba_app
    post = client.post
    assert post("/calls/call-anon/eid", json={}, headers=IVR).status_code == 409
    assert post("/calls/call-cust-x/eid", json={}, headers=IVR).json()["detail"] == (
        "the customer has no eID identifier on file"
    )
    bankid = post("/calls/call-cust-1/eid", json={"method": "bankid"}, headers=IVR)
    assert bankid.status_code == 409 and "configured: ciba" in bankid.json()["detail"]
    assert post("/calls/nope/eid", json={}, headers=IVR).status_code == 404
    assert post("/calls/call-cust-1/eid", json={}).status_code == 401
    assert client.get("/calls/call-cust-2/eid", headers=IVR).status_code == 404
    assert post("/eid/ciba/notify", json={"auth_req_id": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("script", "final", "messages"),
    [
        (HAPPY, "approved", ["Start your BankID app.", "Enter your security code"]),
        ([("pending", "userCallConfirm"), ("failed", "userCancel")], "denied", ["Confirm"]),
    ],
)
def test_agent_starts_bankid_mid_call(
    tmp_path: Path, script: list[Step], final: str, messages: list[str]
) -> None:
    bankid_ca, rp_ca = TestCa(tmp_path / "b", "bankid"), TestCa(tmp_path / "r", "rp")
    rp = rp_ca.issue("rp", server=False)
    with FakeBankIdServer(bankid_ca.issue("appapi", server=True), rp_ca.cert) as fake:
        fake.state.next_script = [(s, h) for s, h in script for _ in range(3)]
        http = mtls_client(rp.cert, rp.key, bankid_ca.cert)
        sessions = EidSessions(bankid=BankIdClient(fake.url, http, interval_s=0.1))
        with TestClient(build_app(sessions, http)) as client:
            started = client.post("/calls/call-cust-se/eid", json={}, headers=AGENT).json()
            assert started["method"] == "bankid" and started["binding_message"] is None
            seen: list[str] = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                view = client.get("/calls/call-cust-se/eid", headers=IVR).json()
                if view["message"] and view["message"] not in seen:
                    seen.append(view["message"])
                if view["status"] != "pending":
                    break
                time.sleep(0.03)
        (order,) = fake.state.orders.values()
    assert view["status"] == final
    assert [m for m in messages if not any(s.startswith(m) for s in seen)] == []
    assert order.request["personalNumber"] == "199001011234"


def test_ping_mode_through_the_https_callback(
    harness: Harness, ping_ca: TestCa, ping_port: int
) -> None:
    """The provider pings voiceauth's route over HTTPS; the token is fetched only then."""
    leaf = ping_ca.issue("voiceauth-callback", server=True)

    async def go() -> tuple[dict[str, Any], list[int], int]:
        http = httpx.AsyncClient(timeout=5)
        config = CibaConfig(
            harness.issuer, "voiceauth-ping", client_secret=harness.client_secret, mode="ping"
        )
        sessions = EidSessions(ciba=CibaClient(config, http))
        app = build_app(sessions, http)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=ping_port,
                ssl_certfile=str(leaf.cert),
                ssl_keyfile=str(leaf.key),
                log_level="warning",
                lifespan="on",
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        base = f"https://127.0.0.1:{ping_port}"
        context = ssl.create_default_context(cafile=str(ping_ca.cert))
        try:
            async with httpx.AsyncClient(base_url=base, verify=context, timeout=5) as api:
                started = await api.post("/calls/call-cust-1/eid", json={}, headers=IVR)
                assert started.status_code == 202
                auth_req_id = await asyncio.to_thread(harness.wait_pending, "DK-1007")
                wrong = await api.post(
                    "/eid/ciba/notify",
                    json={"auth_req_id": auth_req_id},
                    headers={"Authorization": "Bearer not-the-token"},
                )
                await asyncio.sleep(1.2)
                await asyncio.to_thread(harness.admin, "approve", auth_req_id=auth_req_id)
                deadline = time.monotonic() + 5
                while True:
                    view: dict[str, Any] = (
                        await api.get("/calls/call-cust-1/eid", headers=IVR)
                    ).json()
                    if view["status"] != "pending" or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.05)
            polls: list[int] = harness.request(auth_req_id)["polls"]
            return view, polls, wrong.status_code
        finally:
            server.should_exit = True
            await serving

    view, polls, wrong_status = asyncio.run(go())
    assert view["status"] == "approved"
    assert wrong_status == 401
    assert len(polls) == 1, "ping mode: one token request, after the notification"


def test_sessions_from_settings(harness: Harness, tmp_path: Path) -> None:
    """The service's wiring: settings build the providers' clients for the lifespan."""
    settings = Settings(
        ciba_issuer=harness.issuer,
        ciba_client_id="voiceauth",
        ciba_client_secret=SecretStr(harness.client_secret),
    )

    async def go() -> EidCheck | None:
        async with eid_sessions(settings) as sessions:
            assert sessions.methods == ("ciba",)
            await sessions.start("call-9", "cust-9", "DK-1009")
            await asyncio.to_thread(harness.admin, "approve", sub="DK-1009")
            for _ in range(100):
                check = sessions.status("call-9")
                if check is not None and check.status is not EidStatus.PENDING:
                    break
                await asyncio.sleep(0.05)
            return sessions.status("call-9")

    check = asyncio.run(go())
    assert check is not None and check.status is EidStatus.APPROVED

    async def half_configured(settings: Settings) -> None:
        async with eid_sessions(settings):
            pass

    with pytest.raises(ConfigError, match="needs bankid_cert, bankid_key and bankid_ca"):
        asyncio.run(half_configured(Settings(bankid_url="https://127.0.0.1:1/rp/v6.0")))
    with pytest.raises(ConfigError, match="ciba_client_id is not"):
        asyncio.run(half_configured(Settings(ciba_issuer=harness.issuer)))
