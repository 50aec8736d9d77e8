"""One exception handler: voiceauth errors to HTTP status, generic text for the caller.

The caller learns the kind of failure (not found, conflict, invalid input), never internals
such as key ids or which integrity check failed; the full message goes to the server log.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from voiceauth.errors import (
    AudioFormatError,
    CallExists,
    CallRejected,
    ConfigError,
    DuplicateRecord,
    EmbedderMismatch,
    InsufficientSpeech,
    InvalidRecord,
    NoConsent,
    UnknownCall,
    UnknownRecord,
    VoiceauthError,
)
from voiceauth.store import StoreUnavailable

log = logging.getLogger(__name__)

STATUS: list[tuple[type[VoiceauthError], int, str]] = [
    (UnknownRecord, 404, "not found"),
    (UnknownCall, 404, "no such call"),
    (CallExists, 409, "call already open"),
    (CallRejected, 503, "not taking calls now"),
    (DuplicateRecord, 409, "already exists"),
    (NoConsent, 409, "no active consent"),
    (EmbedderMismatch, 409, "voiceprint of another model"),
    (InsufficientSpeech, 422, "not enough speech"),
    (AudioFormatError, 422, "unusable audio"),
    (InvalidRecord, 422, "invalid input"),
    (ConfigError, 422, "invalid input"),
    (StoreUnavailable, 503, "store unavailable, retry later"),
]
"""First match wins; anything else (tampering, missing keys) is a 500 'internal error'."""


def status_of(error: VoiceauthError) -> tuple[int, str]:
    for kind, status, detail in STATUS:
        if isinstance(error, kind):
            return status, detail
    return 500, "internal error"


async def _handle(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, VoiceauthError):  # pragma: no cover - registered for it only
        raise error
    status, detail = status_of(error)
    level = logging.ERROR if status >= 500 else logging.INFO
    log.log(level, "%s %s -> %d: %s", request.method, request.url.path, status, error)
    return JSONResponse({"detail": detail}, status_code=status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(VoiceauthError, _handle)
