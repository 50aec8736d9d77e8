from __future__ import annotations

import asyncio
import re

import pytest
from store.conftest import Database
from store.helpers import FakeClock

from voiceauth.errors import InvalidRecord
from voiceauth.factors import (
    HttpSmsNotifier,
    NotifierError,
    OneTimeCodes,
    OtpOutcome,
    SendOutcome,
    SmtpNotifier,
)
from voiceauth.store import VoiceprintStore

from .receivers import free_port, sms_gateway, smtp_server
from .test_knowledge import dump

KEY = b"k" * 32
MOBILE = "+4915112345678"


def codes_with(store: VoiceprintStore, url: str) -> OneTimeCodes:
    return OneTimeCodes(store, key=KEY, notifiers={"sms": HttpSmsNotifier(url, sender="BANK")})


def sent_code(body: dict[str, str]) -> str:
    found = re.search(r"\b(\d{6})\b", body["text"])
    assert found is not None
    return found.group(1)


def send(codes: OneTimeCodes, call: str = "c-1") -> SendOutcome:
    return asyncio.run(codes.send("cust-1", call_id=call, actor="api:ivr"))


def test_sms_code_round_trip_single_use(
    store: VoiceprintStore, customer: str, database: Database
) -> None:
    with sms_gateway() as (gateway, url):
        codes = codes_with(store, url)
        codes.set_destination(customer, "sms", MOBILE, actor="api:desk")
        assert send(codes) is SendOutcome.SENT
        (_, body) = gateway.requests[0]
        code = sent_code(body)
        assert body["to"] == MOBILE
        assert code not in dump(database.url)
        assert codes.check(customer, code, call_id="c-2", actor="x") is OtpOutcome.NO_CODE
        assert codes.check(customer, code, call_id="c-1", actor="x") is OtpOutcome.VERIFIED
        assert codes.check(customer, code, call_id="c-1", actor="x") is OtpOutcome.NO_CODE
    text = repr([e.details for e in store.audit_entries()])
    assert code not in text and MOBILE not in text
    actions = [e.action for e in store.audit_entries(customer)]
    assert actions[-4:] == ["otp.send", "otp.check", "otp.check", "otp.check"]
    checks = [
        e.details["outcome"] for e in store.audit_entries(customer) if e.action == "otp.check"
    ]
    assert checks == ["no_code", "verified", "no_code"]


def test_email_code_through_a_real_smtp_server(store: VoiceprintStore, customer: str) -> None:
    with smtp_server() as (mailbox, port):
        codes = OneTimeCodes(
            store,
            key=KEY,
            notifiers={"email": SmtpNotifier(f"smtp://127.0.0.1:{port}", sender="c@bank.example")},
        )
        codes.set_destination(customer, "email", "kim@example.org", actor="api:desk")
        assert send(codes) is SendOutcome.SENT
    (envelope,) = mailbox.received
    assert envelope.rcpt_tos == ["kim@example.org"]
    assert isinstance(envelope.content, bytes)
    found = re.search(rb"\b(\d{6})\b", envelope.content)
    assert found is not None
    assert codes.check(customer, found.group(1).decode(), call_id="c-1", actor="x").value == (
        "verified"
    )


def test_expiry(store: VoiceprintStore, customer: str, clock: FakeClock) -> None:
    with sms_gateway() as (gateway, url):
        codes = codes_with(store, url)
        codes.set_destination(customer, "sms", MOBILE, actor="api:desk")
        send(codes)
        code = sent_code(gateway.requests[0][1])
    clock.advance(minutes=5)
    assert codes.check(customer, code, call_id="c-1", actor="x") is OtpOutcome.EXPIRED


def test_attempt_limit_burns_the_code(store: VoiceprintStore, customer: str) -> None:
    with sms_gateway() as (gateway, url):
        codes = codes_with(store, url)
        codes.set_destination(customer, "sms", MOBILE, actor="api:desk")
        send(codes)
        code = sent_code(gateway.requests[0][1])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    outcomes = [codes.check(customer, wrong, call_id="c-1", actor="x") for _ in range(3)]
    assert outcomes == [OtpOutcome.MISMATCH, OtpOutcome.MISMATCH, OtpOutcome.EXHAUSTED]
    assert codes.check(customer, code, call_id="c-1", actor="x") is OtpOutcome.NO_CODE


def test_a_new_code_replaces_the_old_and_sends_are_limited(
    store: VoiceprintStore, customer: str
) -> None:
    with sms_gateway() as (gateway, url):
        codes = codes_with(store, url)
        codes.set_destination(customer, "sms", MOBILE, actor="api:desk")
        assert [send(codes) for _ in range(4)] == [SendOutcome.SENT] * 3 + [SendOutcome.LIMIT]
        first, last = (sent_code(r[1]) for r in (gateway.requests[0], gateway.requests[2]))
    assert len(gateway.requests) == 3
    if first != last:
        assert codes.check(customer, first, call_id="c-1", actor="x") is OtpOutcome.MISMATCH
    assert codes.check(customer, last, call_id="c-1", actor="x") is OtpOutcome.VERIFIED


def test_undelivered_code_is_burnt(store: VoiceprintStore, customer: str) -> None:
    codes = codes_with(store, f"http://127.0.0.1:{free_port()}/")
    codes.set_destination(customer, "sms", MOBILE, actor="api:desk")
    with pytest.raises(NotifierError):
        send(codes)
    assert store.audit_entries(customer)[-1].action == "otp.undelivered"


def test_no_destination_and_bad_destinations(store: VoiceprintStore, customer: str) -> None:
    codes = OneTimeCodes(store, key=KEY, notifiers={})
    assert send(codes) is SendOutcome.NO_DESTINATION
    assert asyncio.run(codes.send(None, call_id="c", actor="x")) is SendOutcome.NO_DESTINATION
    for channel, address in (("sms", "0151 123"), ("email", "kim"), ("fax", "+4930123")):
        with pytest.raises(InvalidRecord, match="OTP destination|E.164"):
            codes.set_destination(customer, channel, address, actor="api:desk")


def test_erasure_deletes_codes_and_destination(
    store: VoiceprintStore, customer: str, database: Database
) -> None:
    with sms_gateway() as (_, url):
        codes = codes_with(store, url)
        codes.set_destination(customer, "sms", MOBILE, actor="api:desk")
        send(codes)
    assert MOBILE in dump(database.url)
    store.erase_customer(customer, actor="dpo:1")
    text = dump(database.url)
    assert MOBILE not in text and "otp_codes" not in text
    assert "'c-1'" not in text  # the code row (with its call id) is gone
