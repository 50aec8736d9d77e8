from __future__ import annotations

from sqlalchemy import select
from store.conftest import Database
from store.helpers import FakeClock

from voiceauth.factors import AttemptLimits, KnowledgeFactors, KnowledgeKind, Outcome, Scope
from voiceauth.factors.hashing import SecretHasher
from voiceauth.store import VoiceprintStore, make_engine
from voiceauth.store.tables import Base

from .conftest import PHONE

PIN = "739152"
ANSWER = "Bäckerstraße 17, Köln"
OTHER_ANI = "+4930999999"


def dump(url: str) -> str:
    """Every row of every table, as text: what a stolen database would show."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return "\n".join(
                repr(tuple(row))
                for table in Base.metadata.sorted_tables
                for row in connection.execute(select(table))
            )
    finally:
        engine.dispose()


def verify(
    k: KnowledgeFactors,
    value: str,
    *,
    call: str = "c-1",
    ani: str | None = PHONE,
    customer: str | None = "cust-1",
    kind: KnowledgeKind = KnowledgeKind.PIN,
    label: str | None = None,
) -> Outcome:
    return k.verify(
        customer, kind, value, call_id=call, ani=ani, actor="api:ivr", label=label
    ).outcome


def test_values_are_stored_as_argon2id_only(
    knowledge: KnowledgeFactors, customer: str, database: Database
) -> None:
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    knowledge.set_factor(customer, KnowledgeKind.DOB, "19800229", actor="api:desk")
    knowledge.set_factor(
        customer, KnowledgeKind.ANSWER, ANSWER, actor="api:desk", label="first-street"
    )
    assert (
        verify(
            knowledge, "  bäckerstrasse 17 koln", kind=KnowledgeKind.ANSWER, label="first-street"
        )
        is Outcome.MISMATCH
    )  # accents are part of the answer
    assert (
        verify(knowledge, "BÄCKERSTRASSE 17 KÖLN", kind=KnowledgeKind.ANSWER, label="first-street")
        is Outcome.VERIFIED
    )
    assert verify(knowledge, "1980-02-29", kind=KnowledgeKind.DOB) is Outcome.VERIFIED
    assert verify(knowledge, PIN) is Outcome.VERIFIED
    text = dump(database.url)
    assert text.count("$argon2id$") == 3
    for secret in (PIN, "1980-02-29", "19800229", "bäckerstrasse", "Bäckerstraße", "köln"):
        assert secret.lower() not in text.lower()
    if database.sqlite_path is not None:
        raw = b"".join(p.read_bytes() for p in database.sqlite_path.parent.glob("voiceauth.db*"))
        assert PIN.encode() not in raw and "bäckerstrasse".encode() not in raw


def test_failures_are_generic_and_cost_a_verify(store: VoiceprintStore, customer: str) -> None:
    calls: list[str | None] = []

    class Spy(SecretHasher):
        def verify(self, digest: str | None, value: str) -> bool:
            calls.append(digest)
            return super().verify(digest, value)

    k = KnowledgeFactors(store, hasher=Spy(time_cost=1, memory_cost_kib=1024))
    k.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    checks = [
        k.verify(customer, KnowledgeKind.PIN, "000000", call_id="a", ani=None, actor="x"),
        k.verify("nobody", KnowledgeKind.PIN, PIN, call_id="b", ani=None, actor="x"),
        k.verify(customer, KnowledgeKind.DOB, "1980-01-01", call_id="c", ani=None, actor="x"),
        k.verify(customer, KnowledgeKind.PIN, "not a pin", call_id="d", ani=None, actor="x"),
        k.verify(None, KnowledgeKind.PIN, PIN, call_id="e", ani=None, actor="x"),
    ]
    assert [c.verified for c in checks] == [False] * 5
    assert [c.outcome for c in checks] == [
        Outcome.MISMATCH,
        Outcome.NO_CUSTOMER,
        Outcome.NOT_ENROLLED,
        Outcome.MISMATCH,
        Outcome.NO_CUSTOMER,
    ]
    assert len(calls) == 5  # one argon2 verify each, whatever was missing


def test_per_call_limit(knowledge: KnowledgeFactors, customer: str) -> None:
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    assert [verify(knowledge, "111111", ani=None) for _ in range(3)] == [Outcome.MISMATCH] * 3
    assert verify(knowledge, PIN, ani=None) is Outcome.LOCKED  # the call's budget is spent
    assert verify(knowledge, PIN, call="c-2", ani=None) is Outcome.VERIFIED


def test_customer_lockout_across_numbers_expires(
    knowledge: KnowledgeFactors, customer: str, clock: FakeClock, store: VoiceprintStore
) -> None:
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    for n in range(5):  # five calls from five numbers, one wrong PIN each
        check = knowledge.verify(
            customer,
            KnowledgeKind.PIN,
            "111111",
            call_id=f"c{n}",
            ani=f"+49301000{n}",
            actor="api:ivr",
        )
        assert check.outcome is Outcome.MISMATCH
    assert check.newly_locked == (Scope.CUSTOMER,)
    assert verify(knowledge, PIN, call="c9", ani="+4930100009") is Outcome.LOCKED
    clock.advance(hours=23)
    assert verify(knowledge, PIN, call="c10", ani="+4930100010") is Outcome.LOCKED
    clock.advance(hours=1, seconds=1)
    assert verify(knowledge, PIN, call="c11", ani="+4930100011") is Outcome.VERIFIED
    lockouts = [e for e in store.audit_entries(customer) if e.action == "factor.lockout"]
    assert [e.details["scope"] for e in lockouts] == ["customer"]


def test_failures_outside_the_window_are_forgotten(
    knowledge: KnowledgeFactors, customer: str, clock: FakeClock
) -> None:
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    for n in range(4):
        verify(knowledge, "111111", call=f"c{n}", ani=None)
    clock.advance(days=1)
    assert verify(knowledge, "111111", call="c5", ani=None) is Outcome.MISMATCH
    assert verify(knowledge, PIN, call="c6", ani=None) is Outcome.VERIFIED


def test_success_clears_the_customer_not_the_ani(
    knowledge: KnowledgeFactors, customer: str, store: VoiceprintStore
) -> None:
    store.add_customer(actor="test", customer_id="cust-2")
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    knowledge.set_factor("cust-2", KnowledgeKind.PIN, "246810", actor="api:desk")
    for n in range(4):
        verify(knowledge, "111111", call=f"c{n}", ani=OTHER_ANI)
    assert verify(knowledge, PIN, call="c5", ani=OTHER_ANI) is Outcome.VERIFIED
    # one more failure from that number locks it, whoever is claimed
    check = knowledge.verify(
        "cust-2", KnowledgeKind.PIN, "000000", call_id="c6", ani=OTHER_ANI, actor="api:ivr"
    )
    assert check.newly_locked == (Scope.ANI,)
    assert (
        verify(knowledge, "246810", customer="cust-2", call="c7", ani=OTHER_ANI) is Outcome.LOCKED
    )
    assert verify(knowledge, "246810", customer="cust-2", call="c8", ani=PHONE) is Outcome.VERIFIED


def test_ani_probing_unknown_customers_locks_the_number(knowledge: KnowledgeFactors) -> None:
    for n in range(5):
        verify(knowledge, "1234", customer=f"guess-{n}", call=f"c{n}", ani=OTHER_ANI)
    assert verify(knowledge, "1234", customer="guess-9", call="c9", ani=OTHER_ANI) is Outcome.LOCKED


def test_configured_limits(store: VoiceprintStore, customer: str, hasher: SecretHasher) -> None:
    k = KnowledgeFactors(store, hasher=hasher, limits=AttemptLimits(per_call=1, lockout_after=2))
    k.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    assert verify(k, "111111", call="a") is Outcome.MISMATCH
    assert verify(k, PIN, call="a") is Outcome.LOCKED
    assert verify(k, "111111", call="b", ani=None) is Outcome.MISMATCH
    assert verify(k, PIN, call="c", ani=None) is Outcome.LOCKED


def test_resetting_a_factor_lifts_the_lockout(knowledge: KnowledgeFactors, customer: str) -> None:
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    for n in range(5):
        verify(knowledge, "111111", call=f"c{n}", ani=None)
    assert verify(knowledge, PIN, call="c6", ani=None) is Outcome.LOCKED
    knowledge.set_factor(customer, KnowledgeKind.PIN, "864200", actor="api:admin")
    assert verify(knowledge, PIN, call="c7", ani=None) is Outcome.MISMATCH
    assert verify(knowledge, "864200", call="c8", ani=None) is Outcome.VERIFIED


def test_audit_records_attempts_without_secrets(
    knowledge: KnowledgeFactors, customer: str, store: VoiceprintStore
) -> None:
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    for n in range(5):
        verify(knowledge, "111111", call=f"c{n}")
    verify(knowledge, PIN, call="c9")
    entries = store.audit_entries(customer)
    actions = [e.action for e in entries]
    assert actions.count("factor.verify") == 6 and actions.count("factor.lockout") == 2
    assert actions[1] == "factor.set"
    outcomes = [e.details["outcome"] for e in entries if e.action == "factor.verify"]
    assert outcomes == ["mismatch"] * 5 + ["locked"]
    text = repr([(e.actor, e.details) for e in store.audit_entries()])
    for secret in (PIN, "111111", PHONE):
        assert secret not in text
    store.verify_audit_chain()


def test_knowledge_listing_shows_no_values(knowledge: KnowledgeFactors, customer: str) -> None:
    knowledge.set_factor(customer, KnowledgeKind.ANSWER, ANSWER, actor="a", label="first-street")
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="a")
    found = knowledge.factors(customer)
    assert [(f.kind, f.label) for f in found] == [
        (KnowledgeKind.ANSWER, "first-street"),
        (KnowledgeKind.PIN, ""),
    ]


def test_erasure_deletes_factor_rows(
    knowledge: KnowledgeFactors, customer: str, store: VoiceprintStore, database: Database
) -> None:
    knowledge.set_factor(customer, KnowledgeKind.PIN, PIN, actor="api:desk")
    verify(knowledge, "111111")
    before = dump(database.url)
    assert "$argon2id$" in before and PHONE in before and "('customer', 'cust-1'" in before
    store.erase_customer(customer, actor="dpo:1")
    text = dump(database.url)
    assert "$argon2id$" not in text and "('customer', 'cust-1'" not in text and PHONE not in text
    assert store.audit_entries(customer)[-1].details["knowledge_factors"] == 1
