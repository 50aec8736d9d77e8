"""argon2id hashing of knowledge factors, with a decoy verify for what does not exist.

Parameters follow the OWASP Password Storage Cheat Sheet's first argon2id configuration
(m = 19 MiB, t = 2, p = 1), the low-memory profile RFC 9106 §4 allows: one verify costs about
20-40 ms of one core and 19 MiB, so a replica can check the knowledge factors of hundreds of
concurrent calls without running out of memory, while each guess against a stolen table costs
the same. Salt 16 bytes and tag 32 bytes (RFC 9106 §3.1 recommendations).

A stolen table of PINs and dates of birth stays guessable whatever the parameters (10^4 PINs,
~4*10^4 birth dates): the hash protects answers and longer PINs, and raises the price of the
short ones; the attempt limits are what protect the live service.

`verify` always runs one argon2 verify, against the stored hash or against a decoy hash made
at start-up, so "no such customer", "no such factor" and "wrong value" take the same time.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 2
"""Passes over memory (OWASP: t=2 with m=19 MiB)."""
MEMORY_COST_KIB = 19_456
"""19 MiB per verify: affordable per concurrent call, costly for a GPU guessing farm."""
PARALLELISM = 1
"""One lane: a verify uses one core, so concurrent calls scale with cores."""
HASH_LEN = 32
SALT_LEN = 16


class SecretHasher:
    """argon2id `hash` and constant-work `verify`; cheaper parameters only for tests."""

    def __init__(
        self,
        *,
        time_cost: int = TIME_COST,
        memory_cost_kib: int = MEMORY_COST_KIB,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=HASH_LEN,
            salt_len=SALT_LEN,
            type=Type.ID,
        )
        self._decoy = self._hasher.hash(secrets.token_urlsafe(24))

    def hash(self, value: str) -> str:
        """The PHC string `$argon2id$v=19$m=...,t=...,p=...$salt$tag` of `value`."""
        return self._hasher.hash(value)

    def verify(self, digest: str | None, value: str) -> bool:
        """Whether `value` matches `digest`; with no digest, the decoy is verified and False
        returned, so the work (and time) is the same either way."""
        try:
            matched: bool = self._hasher.verify(self._decoy if digest is None else digest, value)
        except (VerificationError, InvalidHashError):
            matched = False
        return matched and digest is not None

    def needs_rehash(self, digest: str) -> bool:
        """Whether `digest` was made with other parameters (rehash on the next success)."""
        return self._hasher.check_needs_rehash(digest)
