"""API keys with scopes: configuration holds only their SHA-256, never the keys.

A leaked configuration (or process dump) then gives no usable key. Keys are 32 random bytes,
so a plain SHA-256 suffices (no salt or stretching needed for high-entropy secrets, unlike
passwords). Every configured hash is compared in constant time (`hmac.compare_digest`), and all
of them are always compared, so timing tells nothing about which key was nearly right.

Format (VOICEAUTH_API_KEYS): `name:scope+scope:SHA256HEX`, comma- or newline-separated.
`voiceauth api-keys generate NAME --scope agent` prints a new key and its configuration line.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from voiceauth.errors import ConfigError

KEY_BYTES = 32
NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class Scope(StrEnum):
    """telephony: the call platform's integration; agent: contact-centre desks; admin: the
    data-protection and fraud teams (erasure, export, watchlist)."""

    TELEPHONY = "telephony"
    AGENT = "agent"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who called: the key's name (written to the audit log as `api:NAME`) and its scopes."""

    name: str
    scopes: frozenset[Scope]


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    digest: bytes


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    """The configured keys' hashes; `authenticate` maps a presented key to its principal."""

    def __init__(self, entries: list[tuple[str, frozenset[Scope], str]]) -> None:
        self._entries = [
            _Entry(Principal(name, scopes), bytes.fromhex(digest))
            for name, scopes, digest in entries
        ]

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def parse(cls, text: str) -> ApiKeys:
        entries: list[tuple[str, frozenset[Scope], str]] = []
        names: set[str] = set()
        items = [i.strip() for line in text.splitlines() for i in line.split(",") if i.strip()]
        for number, item in enumerate(items, start=1):
            parts = item.split(":")
            if len(parts) != 3:
                raise ConfigError(f"API key entry {number}: expected 'name:scope+scope:SHA256HEX'")
            name, scope_text, digest = (p.strip() for p in parts)
            if not NAME.match(name):
                raise ConfigError(f"API key entry {number}: name must match {NAME.pattern}")
            if name in names:
                raise ConfigError(f"API key name {name!r} appears twice")
            try:
                scopes = frozenset(Scope(s) for s in scope_text.split("+") if s)
            except ValueError:
                known = ", ".join(s.value for s in Scope)
                raise ConfigError(
                    f"API key {name!r}: unknown scope in {scope_text!r}; known: {known}"
                ) from None
            if not scopes:
                raise ConfigError(f"API key {name!r} has no scope")
            if not SHA256_HEX.match(digest):
                raise ConfigError(f"API key {name!r}: expected a SHA-256 hex digest, not a key")
            names.add(name)
            entries.append((name, scopes, digest))
        return cls(entries)

    def authenticate(self, presented: str) -> Principal | None:
        digest = hashlib.sha256(presented.encode("utf-8")).digest()
        found: Principal | None = None
        for entry in self._entries:
            if hmac.compare_digest(digest, entry.digest):
                found = entry.principal
        return found


def generate_api_key(name: str, scopes: list[Scope]) -> tuple[str, str]:
    """A new key and its configuration line `name:scopes:SHA256HEX`."""
    if not NAME.match(name):
        raise ConfigError(f"API key name must match {NAME.pattern}")
    key = secrets.token_urlsafe(KEY_BYTES)
    scope_text = "+".join(sorted({s.value for s in scopes}))
    return key, f"{name}:{scope_text}:{key_digest(key)}"
