"""The BankID RP API v6.0 client against the fake BankID server over mutual TLS.

A fake, because no BankID test server can be reached offline: see `bankid_fake`.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eid.bankid_fake import HAPPY, FakeBankIdServer, Step
from eid.pki import Issued, TestCa
from voiceauth.factors.eid.bankid import (
    BankIdClient,
    BankIdError,
    Hint,
    mtls_client,
    mtls_context,
)
from voiceauth.factors.eid.outcome import EidResult, EidStatus

KARL = "199001011234"


@pytest.fixture(scope="module")
def bankid_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    return TestCa(tmp_path_factory.mktemp("bankid"), "bankid")


@pytest.fixture(scope="module")
def rp_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    return TestCa(tmp_path_factory.mktemp("rp"), "rp")


@pytest.fixture(scope="module")
def rp_cert(rp_ca: TestCa) -> Issued:
    return rp_ca.issue("voiceauth-rp", server=False)


@pytest.fixture
def fake(bankid_ca: TestCa, rp_ca: TestCa) -> Iterator[FakeBankIdServer]:
    with FakeBankIdServer(bankid_ca.issue("appapi", server=True), rp_ca.cert) as server:
        yield server


def run_order(
    fake: FakeBankIdServer, rp: Issued, ca: Path, script: list[Step]
) -> tuple[EidResult, list[Hint]]:
    fake.state.next_script = script
    hints: list[Hint] = []

    async def go() -> EidResult:
        async with mtls_client(rp.cert, rp.key, ca) as http:
            client = BankIdClient(fake.url, http, interval_s=0.05)
            order = await client.phone_auth(
                KARL, call_initiator="user", user_visible_data="Call with **Bank**"
            )
            return await client.wait(order.order_ref, personal_number=KARL, on_hint=hints.append)

    return asyncio.run(go()), hints


def test_phone_auth_happy_path(fake: FakeBankIdServer, rp_cert: Issued, bankid_ca: TestCa) -> None:
    result, hints = run_order(fake, rp_cert, bankid_ca.cert, HAPPY)
    assert result == EidResult.approved(KARL)
    assert [(h.rfa, h.message) for h in hints] == [
        ("RFA1", "Start your BankID app."),
        ("RFA9", "Enter your security code in the BankID app."),
    ]
    (order,) = fake.state.orders.values()
    assert order.kind == "phone/auth"
    assert order.request["callInitiator"] == "user"
    assert base64.b64decode(order.request["userVisibleData"]) == b"Call with **Bank**"
    assert order.request["userVisibleDataFormat"] == "simpleMarkdownV1"


@pytest.mark.parametrize(
    ("final", "status", "reason"),
    [
        ("userCancel", EidStatus.DENIED, "userCancel: Action cancelled."),
        ("userDeclinedCall", EidStatus.DENIED, "userDeclinedCall: Action cancelled."),
        ("expiredTransaction", EidStatus.EXPIRED, "expiredTransaction: BankID did not respond"),
        ("certificateErr", EidStatus.ERROR, "certificateErr: This BankID is blocked"),
        ("somethingNew", EidStatus.ERROR, "somethingNew: Unknown error"),
    ],
)
def test_failed_orders(
    fake: FakeBankIdServer,
    rp_cert: Issued,
    bankid_ca: TestCa,
    final: str,
    status: EidStatus,
    reason: str,
) -> None:
    script: list[Step] = [("pending", "userCallConfirm"), ("pending", "started"), ("failed", final)]
    result, hints = run_order(fake, rp_cert, bankid_ca.cert, script)
    assert result.status is status
    assert result.reason is not None and result.reason.startswith(reason)
    assert hints[0].message == "Confirm in the BankID app that you are on this call."
    assert hints[1].rfa == "RFA14"


def test_auth_returns_start_tokens_and_another_person_is_not_approved(
    fake: FakeBankIdServer, rp_cert: Issued, bankid_ca: TestCa
) -> None:
    async def go() -> EidResult:
        async with mtls_client(rp_cert.cert, rp_cert.key, bankid_ca.cert) as http:
            client = BankIdClient(fake.url, http, interval_s=0.05)
            order = await client.auth("192.0.2.10", user_visible_data="Login")
            assert order.qr_start_secret and order.auto_start_token
            assert order.qr_start_secret not in repr(order)
            return await client.wait(order.order_ref, personal_number="198512249876")

    assert asyncio.run(go()) == EidResult.error("BankID identified another person")


def test_cancel_ends_the_order(fake: FakeBankIdServer, rp_cert: Issued, bankid_ca: TestCa) -> None:
    async def go() -> EidResult:
        async with mtls_client(rp_cert.cert, rp_cert.key, bankid_ca.cert) as http:
            client = BankIdClient(fake.url, http, interval_s=0.05)
            order = await client.phone_auth(KARL, call_initiator="RP")
            assert (await client.collect(order.order_ref)).status == "pending"
            await client.cancel(order.order_ref)
            return await client.wait(order.order_ref)

    assert asyncio.run(go()) == EidResult.error("BankID collect: notFound")


def test_protocol_errors_carry_the_error_code(
    fake: FakeBankIdServer, rp_cert: Issued, bankid_ca: TestCa
) -> None:
    async def go() -> None:
        async with mtls_client(rp_cert.cert, rp_cert.key, bankid_ca.cert) as http:
            client = BankIdClient(fake.url, http)
            with pytest.raises(BankIdError, match="phone/auth: invalidParameters"):
                await client.phone_auth("12345", call_initiator="user")
            await client.phone_auth(KARL, call_initiator="user")
            with pytest.raises(BankIdError, match="phone/auth: alreadyInProgress"):
                await client.phone_auth(KARL, call_initiator="user")

    asyncio.run(go())


def test_client_refuses_a_server_from_another_ca(
    fake: FakeBankIdServer, rp_cert: Issued, rp_ca: TestCa
) -> None:
    """Trusting only BankID's CA: a server certificate from any other CA is refused."""

    async def go() -> None:
        async with mtls_client(rp_cert.cert, rp_cert.key, rp_ca.cert) as http:
            with pytest.raises(BankIdError, match="unreachable"):
                await BankIdClient(fake.url, http).phone_auth(KARL, call_initiator="user")

    asyncio.run(go())
    assert fake.state.requests == []


@pytest.mark.parametrize("certificate", ["none", "foreign"])
def test_server_refuses_a_client_without_its_certificate(
    fake: FakeBankIdServer, bankid_ca: TestCa, tmp_path: Path, certificate: str
) -> None:
    context = ssl.create_default_context(cafile=str(bankid_ca.cert))
    if certificate == "foreign":
        stranger = TestCa(tmp_path, "stranger").issue("stranger", server=False)
        context = mtls_context(stranger.cert, stranger.key, bankid_ca.cert)

    async def go() -> None:
        async with httpx.AsyncClient(verify=context, timeout=5) as http:
            with pytest.raises(BankIdError, match="unreachable"):
                await BankIdClient(fake.url, http).phone_auth(KARL, call_initiator="user")

    asyncio.run(go())
    assert fake.state.requests == []
    # under TLS 1.3 the client can see the refusal before the server thread has counted it
    deadline = time.monotonic() + 5
    while fake.refused_handshakes == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.refused_handshakes >= 1
