"""FactorMetrics: exact counts of knowledge checks, lockouts, one-time codes and eID outcomes,
read from the registry as Prometheus would scrape it."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from eid.bankid_fake import HAPPY, FakeBankIdServer
from eid.pki import TestCa
from prometheus_client import CollectorRegistry, generate_latest
from store.helpers import FakeClock

from voiceauth.factors import (
    HttpSmsNotifier,
    KnowledgeFactors,
    KnowledgeKind,
    NotifierError,
    OneTimeCodes,
    Outcome,
    SecretHasher,
)
from voiceauth.factors.eid.bankid import BankIdClient, mtls_client
from voiceauth.factors.eid.ciba import CibaClient, CibaConfig
from voiceauth.factors.eid.outcome import EidStatus
from voiceauth.factors.eid.service import EidCheck, EidSessions
from voiceauth.factors.metrics import FactorMetrics
from voiceauth.store import VoiceprintStore

from .conftest import PHONE
from .receivers import free_port, sms_gateway
from .test_knowledge import verify
from .test_otp import KEY, MOBILE, sent_code

PIN = "739152"
WRONG = "111111"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def counted(
    store: VoiceprintStore, hasher: SecretHasher, registry: CollectorRegistry
) -> KnowledgeFactors:
    return KnowledgeFactors(store, hasher=hasher, metrics=FactorMetrics(registry))


def samples(registry: CollectorRegistry, name: str) -> dict[tuple[str, ...], float]:
    """Every series of one counter: label values -> value, zeros included."""
    return {
        tuple(s.labels.values()): s.value
        for metric in registry.collect()
        for s in metric.samples
        if s.name == f"{name}_total"
    }


def nonzero(registry: CollectorRegistry, name: str) -> dict[tuple[str, ...], float]:
    return {k: v for k, v in samples(registry, name).items() if v}


def test_a_burst_of_wrong_pins_counts_one_lockout(
    counted: KnowledgeFactors, customer: str, registry: CollectorRegistry
) -> None:
    counted.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")

    def attempt(n: int) -> Outcome:
        return verify(counted, WRONG, call=f"c-{n}", ani=None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert Outcome.VERIFIED not in list(pool.map(attempt, range(8)))
    assert nonzero(registry, "voiceauth_lockouts") == {("customer",): 1}
    assert nonzero(registry, "voiceauth_knowledge_checks") == {
        ("pin", "mismatch"): 5,
        ("pin", "locked"): 3,
    }


def test_lockouts_count_per_scope_not_per_call(
    counted: KnowledgeFactors, customer: str, registry: CollectorRegistry
) -> None:
    counted.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    # Call 1 spends its budget of 3 (the call is locked: not a lockout), call 2 reaches the
    # 5 failures that lock both the customer and the number, call 3 finds them locked.
    for _ in range(4):
        verify(counted, WRONG, call="c-1")
    assert nonzero(registry, "voiceauth_lockouts") == {}
    assert [verify(counted, WRONG, call="c-2") for _ in range(2)] == [Outcome.MISMATCH] * 2
    assert verify(counted, PIN, call="c-3") is Outcome.LOCKED
    assert samples(registry, "voiceauth_lockouts") == {("customer",): 1, ("ani",): 1}
    assert nonzero(registry, "voiceauth_knowledge_checks") == {
        ("pin", "mismatch"): 5,
        ("pin", "locked"): 2,
    }


def test_outcomes_per_kind_and_no_identifiers_in_labels(
    counted: KnowledgeFactors, customer: str, registry: CollectorRegistry
) -> None:
    counted.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    verify(counted, PIN)
    verify(counted, "19800229", kind=KnowledgeKind.DOB)
    verify(counted, PIN, customer=None)
    assert nonzero(registry, "voiceauth_knowledge_checks") == {
        ("pin", "verified"): 1,
        ("dob", "not_enrolled"): 1,
        ("pin", "no_customer"): 1,
    }
    assert len(samples(registry, "voiceauth_knowledge_checks")) == 15  # every kind x outcome
    text = generate_latest(registry).decode()
    for secret in (customer, PHONE, PIN, "19800229", "c-1"):
        assert secret not in text


def test_otp_events(store: VoiceprintStore, customer: str, clock: FakeClock) -> None:
    registry = CollectorRegistry()
    metrics = FactorMetrics(registry)

    def codes(url: str) -> OneTimeCodes:
        notifier = HttpSmsNotifier(url, sender="BANK")
        return OneTimeCodes(store, key=KEY, notifiers={"sms": notifier}, metrics=metrics)

    def send(otp: OneTimeCodes, call: str) -> None:
        asyncio.run(otp.send(customer, call_id=call, actor="api:ivr"))

    with sms_gateway() as (gateway, url):
        otp = codes(url)
        otp.set_destination(customer, "sms", MOBILE, actor="api:desk")
        for _ in range(4):  # three codes, then the call's limit
            send(otp, "c-1")
        last = sent_code(gateway.requests[-1][1])
        wrong = f"{(int(last) + 1) % 10**6:06d}"
        for _ in range(4):  # two mismatches, the third burns the code, then there is none
            otp.check(customer, wrong, call_id="c-1", actor="api:ivr")
        send(otp, "c-2")
        otp.check(customer, sent_code(gateway.requests[-1][1]), call_id="c-2", actor="api:ivr")
        send(otp, "c-3")
        clock.advance(minutes=5)
        otp.check(customer, sent_code(gateway.requests[-1][1]), call_id="c-3", actor="api:ivr")
    with pytest.raises(NotifierError):
        send(codes(f"http://127.0.0.1:{free_port()}/"), "c-4")
    asyncio.run(
        OneTimeCodes(store, key=KEY, notifiers={}, metrics=metrics).send(
            customer, call_id="c-5", actor="api:ivr"
        )
    )
    assert samples(registry, "voiceauth_otp_events") == {
        ("sent",): 5,
        ("no_destination",): 1,
        ("limit",): 1,
        ("undelivered",): 1,
        ("verified",): 1,
        ("mismatch",): 2,
        ("exhausted",): 1,
        ("expired",): 1,
        ("no_code",): 1,
    }


async def _settled(sessions: EidSessions, call_id: str) -> EidCheck:
    deadline = time.monotonic() + 20
    while True:
        check = sessions.status(call_id)
        if check is not None and check.status is not EidStatus.PENDING:
            return check
        if time.monotonic() > deadline:
            raise TimeoutError(f"eID check of {call_id} still pending")
        await asyncio.sleep(0.05)


def test_eid_final_status_counted_once(tmp_path: Path) -> None:
    bankid_ca, rp_ca = TestCa(tmp_path / "b", "bankid"), TestCa(tmp_path / "r", "rp")
    rp = rp_ca.issue("rp", server=False)
    registry = CollectorRegistry()
    ended: list[EidCheck] = []
    dead = f"http://127.0.0.1:{free_port()}"

    async def go() -> list[EidStatus]:
        async with (
            mtls_client(rp.cert, rp.key, bankid_ca.cert) as mtls,
            httpx.AsyncClient(timeout=5) as http,
        ):
            sessions = EidSessions(
                bankid=BankIdClient(fake.url, mtls, interval_s=0.05),
                ciba=CibaClient(CibaConfig(dead, "voiceauth", client_secret="s"), http),
                on_result=ended.append,
                metrics=FactorMetrics(registry),
            )
            fake.state.next_script = list(HAPPY)
            await sessions.start("call-1", "cust-se", "199001011234", method="bankid")
            approved = await _settled(sessions, "call-1")
            fake.state.next_script = [("pending", "userSign"), ("failed", "userCancel")]
            await sessions.start("call-1", "cust-se", "199001011234", method="bankid")
            denied = await _settled(sessions, "call-1")
            failed = await sessions.start("call-2", "cust-dk", "DK-1007", method="ciba")
            await asyncio.sleep(0.3)  # reads and time after the end add nothing
            assert (await _settled(sessions, "call-1")).status is EidStatus.DENIED
            await sessions.aclose()
            return [approved.status, denied.status, failed.status]

    with FakeBankIdServer(bankid_ca.issue("appapi", server=True), rp_ca.cert) as fake:
        statuses = asyncio.run(go())
    assert statuses == [EidStatus.APPROVED, EidStatus.DENIED, EidStatus.ERROR]
    assert nonzero(registry, "voiceauth_eid_outcomes") == {
        ("bankid", "approved"): 1,
        ("bankid", "denied"): 1,
        ("ciba", "error"): 1,
    }
    assert len(samples(registry, "voiceauth_eid_outcomes")) == 8  # 2 methods x 4 final states
    assert [c.status for c in ended] == statuses
