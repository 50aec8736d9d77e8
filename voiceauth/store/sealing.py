"""Envelope encryption of embeddings with AES-GCM (NIST SP 800-38D).

Each record gets its own random 256-bit data key (DEK) that encrypts the vector; the DEK is
wrapped by a key-encryption key (KEK) from the `Keyring`. Rotating a KEK then re-wraps 60 bytes
per record instead of re-encrypting data, and a leaked DEK exposes one voiceprint only.

Both encryptions carry associated data that names the record's place (what it is, customer or
entry id, model), so a ciphertext copied into another row, or another customer's row, fails
authentication instead of silently verifying someone else's voice. A short key check value
(HMAC of a fixed label under the KEK) tells "this is not the key it was sealed with" apart from
"the record was altered".

Sealed format (`SealedBox`, all lengths fixed except the ciphertext):
`magic "VAS1"` | key check (8) | wrap nonce (12) | wrapped DEK (32 + 16 tag) | data nonce (12) |
ciphertext (4 * dimension + 16 tag). The vector is little-endian float32.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from typing import Self

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from voiceauth.embeddings.base import Vector
from voiceauth.errors import TamperedData, WrongKey
from voiceauth.store.keyring import Keyring

MAGIC = b"VAS1"
KEY_CHECK_BYTES = 8
NONCE_BYTES = 12
"""96-bit nonces, the size SP 800-38D §8.2 recommends; random, one key per record."""
DEK_BYTES = 32
TAG_BYTES = 16
WRAPPED_DEK_BYTES = DEK_BYTES + TAG_BYTES
HEADER_BYTES = len(MAGIC) + KEY_CHECK_BYTES + NONCE_BYTES + WRAPPED_DEK_BYTES + NONCE_BYTES
KEY_CHECK_LABEL = b"voiceauth key check v1"
FLOAT32_LE = np.dtype("<f4")


@dataclass(frozen=True, slots=True)
class SealedBox:
    """The parts of a sealed embedding, as stored in a `sealed` column."""

    key_check: bytes
    wrap_nonce: bytes
    wrapped_dek: bytes
    data_nonce: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, data: bytes) -> Self:
        """Split stored bytes; TamperedData names the defect if they cannot be a sealed box."""
        if len(data) < HEADER_BYTES + TAG_BYTES:
            raise TamperedData(
                f"sealed embedding: got {len(data)} bytes, need at least {HEADER_BYTES + TAG_BYTES}"
            )
        if data[: len(MAGIC)] != MAGIC:
            magic = data[: len(MAGIC)]
            raise TamperedData(f"sealed embedding: bad magic {magic!r}, need {MAGIC!r}")
        offset = len(MAGIC)
        parts: list[bytes] = []
        for size in (KEY_CHECK_BYTES, NONCE_BYTES, WRAPPED_DEK_BYTES, NONCE_BYTES):
            parts.append(data[offset : offset + size])
            offset += size
        return cls(parts[0], parts[1], parts[2], parts[3], data[offset:])

    def __bytes__(self) -> bytes:
        return b"".join(
            (
                MAGIC,
                self.key_check,
                self.wrap_nonce,
                self.wrapped_dek,
                self.data_nonce,
                self.ciphertext,
            )
        )


def key_check(kek: bytes) -> bytes:
    """A value that identifies a KEK without revealing it (truncated HMAC-SHA256)."""
    return hmac.new(kek, KEY_CHECK_LABEL, hashlib.sha256).digest()[:KEY_CHECK_BYTES]


def context(kind: str, record_id: str, model: str) -> bytes:
    """Associated data binding a ciphertext to its record: kind, id and model, length-prefixed."""
    parts = [p.encode("utf-8") for p in (kind, record_id, model)]
    return b"".join(struct.pack(">H", len(p)) + p for p in parts)


def _wrap_aad(ctx: bytes, kid: str) -> bytes:
    return ctx + b"|kek|" + kid.encode("utf-8")


def _wrap(keyring: Keyring, kid: str, dek: bytes, ctx: bytes) -> tuple[bytes, bytes, bytes]:
    kek = keyring.key(kid)
    nonce = secrets.token_bytes(NONCE_BYTES)
    wrapped = AESGCM(kek).encrypt(nonce, dek, _wrap_aad(ctx, kid))
    return key_check(kek), nonce, wrapped


def _unwrap(keyring: Keyring, kid: str, box: SealedBox, ctx: bytes, record: str) -> bytes:
    kek = keyring.key(kid)
    if not hmac.compare_digest(key_check(kek), box.key_check):
        raise WrongKey(kid, record)
    try:
        return AESGCM(kek).decrypt(box.wrap_nonce, box.wrapped_dek, _wrap_aad(ctx, kid))
    except InvalidTag:
        raise TamperedData(
            f"{record}: data key does not authenticate (altered, or moved from another record)"
        ) from None


def seal(keyring: Keyring, vector: Vector, ctx: bytes) -> tuple[str, bytes]:
    """Encrypt `vector` ((dimension,) float32) under a fresh DEK; returns (key id, sealed)."""
    dek = AESGCM.generate_key(bit_length=DEK_BYTES * 8)
    data_nonce = secrets.token_bytes(NONCE_BYTES)
    plaintext = np.ascontiguousarray(vector, dtype=FLOAT32_LE).tobytes()
    ciphertext = AESGCM(dek).encrypt(data_nonce, plaintext, ctx)
    kid = keyring.active
    check, wrap_nonce, wrapped = _wrap(keyring, kid, dek, ctx)
    return kid, bytes(SealedBox(check, wrap_nonce, wrapped, data_nonce, ciphertext))


def unseal(keyring: Keyring, kid: str, sealed: bytes, ctx: bytes, *, record: str) -> Vector:
    """Decrypt a sealed vector; MissingKey, WrongKey or TamperedData say why it cannot be.

    `record` names the row in error messages (e.g. "voiceprint 12"), never its content.
    """
    box = SealedBox.parse(sealed)
    dek = _unwrap(keyring, kid, box, ctx, record)
    try:
        plaintext = AESGCM(dek).decrypt(box.data_nonce, box.ciphertext, ctx)
    except InvalidTag:
        raise TamperedData(
            f"{record}: ciphertext does not authenticate (altered, or moved from another record)"
        ) from None
    if len(plaintext) % FLOAT32_LE.itemsize:
        raise TamperedData(f"{record}: plaintext of {len(plaintext)} bytes is not float32 data")
    return np.frombuffer(plaintext, dtype=FLOAT32_LE).astype(np.float32)


def rewrap(
    keyring: Keyring, kid: str, sealed: bytes, ctx: bytes, new_kid: str, *, record: str
) -> bytes:
    """The same sealed data with its DEK wrapped by `new_kid` instead of `kid`.

    The data ciphertext is untouched; the DEK is authenticated on the way (a tampered record
    is refused rather than re-wrapped, which would launder it).
    """
    box = SealedBox.parse(sealed)
    dek = _unwrap(keyring, kid, box, ctx, record)
    try:
        AESGCM(dek).decrypt(box.data_nonce, box.ciphertext, ctx)
    except InvalidTag:
        raise TamperedData(f"{record}: ciphertext does not authenticate; not re-wrapped") from None
    check, wrap_nonce, wrapped = _wrap(keyring, new_kid, dek, ctx)
    return bytes(SealedBox(check, wrap_nonce, wrapped, box.data_nonce, box.ciphertext))
