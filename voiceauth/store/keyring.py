"""Key-encryption keys (KEKs) by key id, the first one active.

Voiceprints are sealed under per-record data keys that are wrapped by a KEK (envelope
encryption, NIST SP 800-57 Part 1 §6.2 on key separation); the KEK never lives in the database,
so a stolen database or backup is useless without it (GDPR Art. 32(1)(a), Art. 34(3)(a)).
Several KEKs may be configured at once so that keys can be rotated without downtime: new data
is wrapped with the active (first) one, older records are unwrapped with whichever id they name
until `voiceauth.store.rotation.rotate` has re-wrapped them.

Format (environment variable or key file): `kid1:BASE64,kid2:BASE64`, or one `kid:BASE64` per
line in a file (blank lines and `#` comments allowed); each key is 32 random bytes (AES-256).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voiceauth.errors import ConfigError, MissingKey

KEK_BYTES = 32
"""AES-256 (NIST SP 800-131A: 128-bit and longer keys stay approved beyond 2030)."""
KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Keyring:
    """KEKs by id; `active` wraps new data keys. The repr never shows key material."""

    keys: Mapping[str, bytes] = field(repr=False)
    active: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigError("keyring is empty: configure at least one key-encryption key")
        for kid, key in self.keys.items():
            if not KEY_ID.match(kid):
                raise ConfigError(f"keyring: key id {kid!r} must match {KEY_ID.pattern}")
            if len(key) != KEK_BYTES:
                raise ConfigError(
                    f"keyring: key {kid!r} is {len(key)} bytes, need {KEK_BYTES} (AES-256)"
                )
        if self.active not in self.keys:
            raise ConfigError(f"keyring: active key {self.active!r} is not among its keys")

    @property
    def key_ids(self) -> list[str]:
        """Configured key ids, active first."""
        return [self.active, *(kid for kid in self.keys if kid != self.active)]

    def key(self, kid: str) -> bytes:
        """The KEK named `kid`; MissingKey if it is not configured."""
        try:
            return self.keys[kid]
        except KeyError:
            raise MissingKey(kid, self.key_ids) from None

    def with_active(self, kid: str) -> Keyring:
        """The same keys with `kid` active."""
        self.key(kid)
        return Keyring(dict(self.keys), kid)

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Parse `kid:BASE64` entries separated by commas or newlines; the first is active."""
        keys: dict[str, bytes] = {}
        entries = [
            entry.strip()
            for line in text.splitlines()
            if not line.strip().startswith("#")
            for entry in line.split(",")
        ]
        for number, entry in enumerate((e for e in entries if e), start=1):
            kid, sep, encoded = entry.partition(":")
            kid = kid.strip()
            if not sep or not kid:
                raise ConfigError(f"keyring entry {number}: expected 'kid:BASE64'")
            if kid in keys:
                raise ConfigError(f"keyring: key id {kid!r} appears twice")
            try:
                keys[kid] = base64.b64decode(encoded.strip(), validate=True)
            except binascii.Error:
                raise ConfigError(f"keyring: key {kid!r} is not valid base64") from None
        if not keys:
            raise ConfigError("keyring is empty: configure at least one key-encryption key")
        return cls(keys, next(iter(keys)))

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a key file (see the module docstring for its format)."""
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise ConfigError(f"key file {path} not found") from None
        except UnicodeDecodeError:
            raise ConfigError(f"key file {path} is not ASCII 'kid:BASE64' text") from None
        return cls.parse(text)


def generate_key() -> str:
    """A fresh random KEK, base64-encoded, for `kid:BASE64` configuration."""
    return base64.b64encode(secrets.token_bytes(KEK_BYTES)).decode("ascii")
