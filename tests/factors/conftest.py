"""Factor fixtures: the store fixtures (SQLite and PostgreSQL), a cheap hasher, a customer."""

from __future__ import annotations

import pytest

from voiceauth.factors import KnowledgeFactors, SecretHasher
from voiceauth.store import VoiceprintStore

PHONE = "+4930123456"


@pytest.fixture(scope="session")
def hasher() -> SecretHasher:
    """argon2id with test-sized memory (the shipped parameters are tested on their own)."""
    return SecretHasher(time_cost=1, memory_cost_kib=1024)


@pytest.fixture
def knowledge(store: VoiceprintStore, hasher: SecretHasher) -> KnowledgeFactors:
    return KnowledgeFactors(store, hasher=hasher)


@pytest.fixture
def customer(store: VoiceprintStore) -> str:
    return store.add_customer(actor="test", customer_id="cust-1", phones=[PHONE]).id
