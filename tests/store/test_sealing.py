from __future__ import annotations

import numpy as np
import pytest

from voiceauth.errors import MissingKey, TamperedData, WrongKey
from voiceauth.store import Keyring
from voiceauth.store.sealing import HEADER_BYTES, MAGIC, SealedBox, context, rewrap, seal, unseal

from .helpers import KEY1, KEY2, embedding

RING = Keyring({"k1": KEY1, "k2": KEY2}, "k1")
CTX = context("voiceprint", "cust-1", "ge2e@1")


def test_round_trip_and_format() -> None:
    vector = embedding(1).vector
    kid, sealed = seal(RING, vector, CTX)
    assert kid == "k1"
    assert sealed.startswith(MAGIC)
    assert len(sealed) == HEADER_BYTES + 4 * vector.size + 16
    assert bytes(SealedBox.parse(sealed)) == sealed
    np.testing.assert_array_equal(unseal(RING, kid, sealed, CTX, record="r"), vector)


def test_each_seal_uses_fresh_keys_and_nonces() -> None:
    vector = embedding(1).vector
    assert seal(RING, vector, CTX)[1] != seal(RING, vector, CTX)[1]


def test_other_context_fails() -> None:
    kid, sealed = seal(RING, embedding(1).vector, CTX)
    for other in (
        context("voiceprint", "cust-2", "ge2e@1"),
        context("voiceprint", "cust-1", "ecapa@1"),
    ):
        with pytest.raises(TamperedData, match="moved from another record"):
            unseal(RING, kid, sealed, other, record="r")


@pytest.mark.parametrize("position", [HEADER_BYTES - 20, HEADER_BYTES + 3, -1])
def test_flipped_byte_fails(position: int) -> None:
    kid, sealed = seal(RING, embedding(1).vector, CTX)
    broken = bytearray(sealed)
    broken[position] ^= 0x01
    with pytest.raises(TamperedData, match="does not authenticate"):
        unseal(RING, kid, bytes(broken), CTX, record="voiceprint 7")


def test_truncated_and_foreign_bytes_are_named() -> None:
    with pytest.raises(TamperedData, match="got 10 bytes, need at least"):
        SealedBox.parse(b"\x00" * 10)
    with pytest.raises(TamperedData, match="bad magic"):
        SealedBox.parse(b"XXXX" + b"\x00" * 200)


def test_wrong_and_missing_key() -> None:
    kid, sealed = seal(RING, embedding(1).vector, CTX)
    with pytest.raises(WrongKey, match="voiceprint 7: key 'k1'"):
        unseal(Keyring({"k1": KEY2}, "k1"), kid, sealed, CTX, record="voiceprint 7")
    with pytest.raises(MissingKey, match="'k1'"):
        unseal(Keyring({"k2": KEY2}, "k2"), kid, sealed, CTX, record="voiceprint 7")


def test_rewrap_keeps_data_and_changes_key() -> None:
    vector = embedding(1).vector
    _, sealed = seal(RING, vector, CTX)
    moved = rewrap(RING, "k1", sealed, CTX, "k2", record="r")
    assert SealedBox.parse(moved).ciphertext == SealedBox.parse(sealed).ciphertext
    only_new = Keyring({"k2": KEY2}, "k2")
    np.testing.assert_array_equal(unseal(only_new, "k2", moved, CTX, record="r"), vector)
