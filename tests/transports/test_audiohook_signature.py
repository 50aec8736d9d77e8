"""AudioHook upgrade authentication: API key and scope, session headers, and the RFC 9421
signature (valid, tampered, missing, expired, replayed, wrong secret, wrong key id)."""

from __future__ import annotations

import base64
import datetime
import time
import uuid

import pytest

from tests.transports.hook_server import SECRET, keys
from voiceauth.errors import ConfigError
from voiceauth.transports.audiohook.auth import Refusal, Upgrade, authenticate
from voiceauth.transports.audiohook.signature import (
    API_KEY_HEADER,
    CORRELATION_HEADER,
    MIN_NONCE_CHARS,
    ORGANIZATION_HEADER,
    SESSION_HEADER,
    NonceCache,
    decode_secret,
    sign_upgrade,
)

URL = "ws://voiceauth.example:8080/audiohook/ws"
SESSION = str(uuid.uuid4())
ORG = str(uuid.uuid4())


def signed(
    api_key: str, *, secret: str = SECRET, created: datetime.datetime | None = None
) -> dict[str, str]:
    headers = {
        API_KEY_HEADER: api_key,
        ORGANIZATION_HEADER: ORG,
        SESSION_HEADER: SESSION,
        CORRELATION_HEADER: str(uuid.uuid4()),
        "Host": "voiceauth.example:8080",
    }
    raw = base64.b64decode(secret)
    return sign_upgrade(URL, headers, api_key=api_key, secret=raw, created=created)


def check(headers: dict[str, str], nonces: NonceCache | None = None) -> Upgrade | Refusal:
    return authenticate(
        URL,
        {name.lower(): value for name, value in headers.items()},
        keys=CONFIGURED,
        secret=decode_secret(SECRET),
        nonces=nonces or NonceCache(30),
        now=time.time(),
    )


CONFIGURED, TELEPHONY, AGENT = keys()


def test_a_genesys_style_signed_upgrade_is_accepted() -> None:
    headers = signed(TELEPHONY)
    assert headers["Signature-Input"].startswith(
        'sig1=("@request-target" "@authority" "audiohook-organization-id" '
        '"audiohook-session-id" "audiohook-correlation-id" "x-api-key");'
    )
    assert 'alg="hmac-sha256"' in headers["Signature-Input"]
    found = check(headers)
    assert isinstance(found, Upgrade)
    assert (found.session_id, found.organization_id, found.principal) == (SESSION, ORG, "genesys")


def test_a_missing_or_unknown_api_key_is_401() -> None:
    headers = signed(TELEPHONY)
    del headers[API_KEY_HEADER]
    assert check(headers) == Refusal(401, "api_key", "missing X-API-KEY")
    assert check(signed("not-a-configured-key")) == Refusal(401, "api_key", "unknown X-API-KEY")


def test_a_key_without_the_telephony_scope_is_403() -> None:
    refusal = check(signed(AGENT))
    assert isinstance(refusal, Refusal)
    assert (refusal.status, refusal.kind) == (403, "api_key")
    assert "telephony scope" in refusal.message


def test_missing_session_headers_are_400() -> None:
    headers = signed(TELEPHONY)
    headers[SESSION_HEADER] = "not-a-uuid"
    refusal = check(headers)
    assert isinstance(refusal, Refusal) and (refusal.status, refusal.kind) == (400, "ws_message")


def refusal_text(headers: dict[str, str], nonces: NonceCache | None = None) -> str:
    refusal = check(headers, nonces)
    assert isinstance(refusal, Refusal)
    assert (refusal.status, refusal.kind) == (401, "ws_signature")
    return refusal.message


def test_a_missing_signature_is_refused() -> None:
    headers = signed(TELEPHONY)
    del headers["Signature"], headers["Signature-Input"]
    assert "Signature-Input" in refusal_text(headers)


def test_a_tampered_covered_header_breaks_the_signature() -> None:
    headers = signed(TELEPHONY)
    headers[ORGANIZATION_HEADER] = str(uuid.uuid4())
    assert "did not match" in refusal_text(headers)


def test_a_signature_with_another_secret_is_refused() -> None:
    other = base64.b64encode(b"someone else's secret").decode()
    assert "did not match" in refusal_text(signed(TELEPHONY, secret=other))


def test_an_expired_signature_is_refused() -> None:
    old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=2)
    assert "expires" in refusal_text(signed(TELEPHONY, created=old))


def test_a_replayed_signature_is_refused() -> None:
    headers, nonces = signed(TELEPHONY), NonceCache(30)
    assert isinstance(check(headers, nonces), Upgrade)
    assert "already used" in refusal_text(headers, nonces)


def test_the_key_id_must_be_the_api_key_presented() -> None:
    alias = signed(TELEPHONY)
    alias["Signature-Input"] = alias["Signature-Input"].replace(
        f'keyid="{TELEPHONY}"', 'keyid="other"'
    )
    assert "Unable to resolve verification key" in refusal_text(alias)


def test_nonces_expire_after_their_lifetime() -> None:
    nonces = NonceCache(ttl_s=20)
    nonce = "n" * MIN_NONCE_CHARS
    assert nonces.first_use(nonce, now=100.0)
    assert not nonces.first_use(nonce, now=110.0)
    assert nonces.first_use(nonce, now=131.0)


def test_the_client_secret_must_be_base64() -> None:
    assert decode_secret(SECRET) == b"audiohook integration client secret"
    with pytest.raises(ConfigError, match="must be base64"):
        decode_secret("not base64!")
