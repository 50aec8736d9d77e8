from __future__ import annotations

import base64
from pathlib import Path

import pytest

from voiceauth.errors import ConfigError, MissingKey
from voiceauth.store import Keyring, generate_key

from .helpers import KEY1, KEY2


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_parse_env_string_first_key_is_active() -> None:
    ring = Keyring.parse(f"k2:{_b64(KEY2)}, k1:{_b64(KEY1)}")
    assert ring.active == "k2"
    assert ring.key_ids == ["k2", "k1"]
    assert ring.key("k1") == KEY1


def test_key_file_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# rotated 2026-01\nk1:{_b64(KEY1)}\n\nk0:{generate_key()}\n")
    assert Keyring.load(path).key_ids == ["k1", "k0"]


def test_repr_hides_key_material() -> None:
    ring = Keyring.parse(f"k1:{_b64(KEY1)}")
    assert _b64(KEY1) not in repr(ring)
    assert str(list(KEY1)) not in repr(ring)
    assert "k1" in repr(ring)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("k1", "expected 'kid:BASE64'"),
        ("k1:not base64!", "not valid base64"),
        (f"k1:{_b64(b'short')}", "5 bytes, need 32"),
        (f"k1:{_b64(KEY1)},k1:{_b64(KEY2)}", "appears twice"),
        (f"bad/id:{_b64(KEY1)}", "must match"),
    ],
)
def test_bad_keyrings_are_named(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Keyring.parse(text)


def test_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        Keyring.load(tmp_path / "absent")


def test_missing_key_lists_known_ids() -> None:
    with pytest.raises(MissingKey, match=r"'k9' is not in the keyring \(known: k1\)"):
        Keyring({"k1": KEY1}, "k1").key("k9")
