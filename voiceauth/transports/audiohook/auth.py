"""Who may open an AudioHook session: the upgrade's API key, its scope, its signature, its ids.

The API key in `X-API-KEY` must be one of voiceauth's keys with the `telephony` scope (the
platform integration's); the request must carry the AudioHook session headers and be signed
with the integration's client secret (signature.py). A refusal says what was wrong in plain
text and which HTTP status to answer the upgrade with; the key itself is never echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voiceauth.api.keys import ApiKeys, Scope
from voiceauth.transports.audiohook.messages import is_uuid
from voiceauth.transports.audiohook.signature import (
    API_KEY_HEADER,
    CORRELATION_HEADER,
    ORGANIZATION_HEADER,
    SESSION_HEADER,
    BadSignature,
    NonceCache,
    SignedRequest,
    http_url,
    verify_upgrade,
)

SCOPE = Scope.TELEPHONY


@dataclass(frozen=True, slots=True)
class Refusal:
    """status: the HTTP answer to the upgrade; kind: the malformed-input counter's label."""

    status: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class Upgrade:
    """An authenticated upgrade: the session it opens and the principal that opened it."""

    session_id: str
    organization_id: str
    correlation_id: str
    principal: str


def authenticate(
    url: str,
    headers: Mapping[str, str],
    *,
    keys: ApiKeys,
    secret: bytes,
    nonces: NonceCache,
    now: float,
) -> Upgrade | Refusal:
    """Check an upgrade request (`headers` with lower-case names) in the order a client can
    fix it: key, scope, session headers, signature."""
    api_key = headers.get(API_KEY_HEADER.lower())
    if not api_key:
        return Refusal(401, "api_key", f"missing {API_KEY_HEADER}")
    principal = keys.authenticate(api_key)
    if principal is None:
        return Refusal(401, "api_key", f"unknown {API_KEY_HEADER}")
    if SCOPE not in principal.scopes:
        return Refusal(403, "api_key", f"this key lacks the {SCOPE.value} scope AudioHook needs")
    ids = [
        headers.get(h.lower(), "")
        for h in (SESSION_HEADER, ORGANIZATION_HEADER, CORRELATION_HEADER)
    ]
    if not all(is_uuid(value) for value in ids):
        names = ", ".join((SESSION_HEADER, ORGANIZATION_HEADER, CORRELATION_HEADER))
        return Refusal(400, "ws_message", f"{names} must be present and UUIDs")
    request = SignedRequest("GET", http_url(url), dict(headers))
    try:
        verify_upgrade(request, api_key=api_key, secret=secret, nonces=nonces, now=now)
    except BadSignature as error:
        return Refusal(401, "ws_signature", f"invalid HTTP message signature: {error}")
    session, organization, correlation = ids
    return Upgrade(session, organization, correlation, principal.name)
