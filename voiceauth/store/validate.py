"""Checks on values before they are stored; each failure is an InvalidRecord naming the field."""

from __future__ import annotations

import math
import re

import numpy as np

from voiceauth.embeddings.base import Embedding
from voiceauth.errors import InvalidRecord
from voiceauth.store.tables import ID_LENGTH, MODEL_LENGTH

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
"""ITU-T E.164: '+', country code, at most 15 digits; ANI lookups compare exact strings."""
RECORD_ID = re.compile(r"^[A-Za-z0-9._:-]+$")


def phone(number: str) -> str:
    if not E164.match(number):
        raise InvalidRecord(f"phone number {number!r} is not E.164 (e.g. +4930123456)")
    return number


def record_id(kind: str, value: str) -> str:
    if not (0 < len(value) <= ID_LENGTH) or not RECORD_ID.match(value):
        raise InvalidRecord(
            f"{kind} id {value!r}: need 1..{ID_LENGTH} characters of [A-Za-z0-9._:-]"
        )
    return value


def embedding(value: Embedding) -> str:
    """The model string `id@version` of a storable embedding."""
    model = value.model
    if not value.embedder_id or not value.version or len(model) > MODEL_LENGTH:
        raise InvalidRecord(f"embedding model {model!r}: need a non-empty id and version")
    vector = value.vector
    if vector.ndim != 1 or vector.size == 0:
        raise InvalidRecord(f"embedding of {model}: shape {vector.shape}, need (dimension,)")
    if not bool(np.isfinite(vector).all()):
        raise InvalidRecord(f"embedding of {model}: contains NaN or infinity")
    if not math.isfinite(value.net_speech_s) or value.net_speech_s < 0:
        raise InvalidRecord(f"embedding of {model}: net_speech_s {value.net_speech_s} invalid")
    return model


def split_model(model: str) -> tuple[str, str]:
    """`id@version` to (id, version); the version is after the last '@'."""
    embedder_id, sep, version = model.rpartition("@")
    if not sep or not embedder_id or not version:
        raise InvalidRecord(f"model {model!r} is not 'embedder_id@version'")
    return embedder_id, version
