from __future__ import annotations

import time

from argon2 import extract_parameters

from voiceauth.factors.hashing import MEMORY_COST_KIB, PARALLELISM, TIME_COST, SecretHasher


def test_shipped_parameters_are_argon2id_and_verify() -> None:
    hasher = SecretHasher()
    digest = hasher.hash("1234")
    params = extract_parameters(digest)
    assert digest.startswith("$argon2id$v=19$")
    assert (params.memory_cost, params.time_cost, params.parallelism) == (
        MEMORY_COST_KIB,
        TIME_COST,
        PARALLELISM,
    )
    assert "1234" not in digest
    assert hasher.verify(digest, "1234")
    assert not hasher.verify(digest, "1235")
    assert not hasher.needs_rehash(digest)


def test_missing_digest_costs_a_verify_and_fails() -> None:
    hasher = SecretHasher()
    digest = hasher.hash("1234")
    start = time.perf_counter()
    for _ in range(3):
        hasher.verify(digest, "0000")
    wrong = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(3):
        assert not hasher.verify(None, "1234")
    missing = time.perf_counter() - start
    assert missing > wrong / 3  # the decoy is verified: no fast path for "nothing there"


def test_garbage_digest_is_a_failure_not_an_error() -> None:
    assert not SecretHasher(time_cost=1, memory_cost_kib=1024).verify("not-a-hash", "1234")
