"""AudioHook's authentication of the WebSocket upgrade: API key plus HTTP message signature.

Genesys sends the integration's API key in `X-API-KEY` and signs the upgrade request as RFC
9421 HTTP Message Signatures with HMAC-SHA256, keyed by the integration's client secret
(configured base64), `keyid` being the API key itself. The signature must cover
`@request-target`, `@authority`, the `audiohook-organization-id`, `audiohook-session-id` and
`audiohook-correlation-id` headers and `x-api-key`, carry `created` (at most MAX_AGE_S old),
optionally `expires`, and a `nonce` of at least MIN_NONCE_CHARS characters seen only once
(the reference implementation's rules). Verification and signing are done by the maintained
`http-message-signatures` library; this module only states the policy.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from voiceauth.errors import ConfigError

API_KEY_HEADER = "X-API-KEY"
ORGANIZATION_HEADER = "Audiohook-Organization-Id"
SESSION_HEADER = "Audiohook-Session-Id"
CORRELATION_HEADER = "Audiohook-Correlation-Id"
COVERED = (
    "@request-target",
    "@authority",
    "audiohook-organization-id",
    "audiohook-session-id",
    "audiohook-correlation-id",
    "x-api-key",
)
LABEL = "sig1"
MAX_AGE_S = 10
"""Seconds a signature stays valid after `created` (plus the library's 5 s clock skew)."""
MIN_NONCE_CHARS = 22
"""128 random bits in base64."""
HTTP_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
"""RFC 9421 derives @authority from the target URI; a WebSocket URI's default ports are HTTP's."""


@dataclass
class SignedRequest:
    """The view of an upgrade request the signature library reads."""

    method: str
    url: str
    headers: dict[str, str]


class BadSignature(Exception):
    """The upgrade's signature is missing, malformed, stale, replayed or wrong."""


def decode_secret(secret_b64: str) -> bytes:
    """The client secret as configured in Genesys (base64) as key bytes."""
    try:
        return base64.b64decode(secret_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            "the AudioHook client secret must be base64, as Genesys shows it"
        ) from None


def http_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=HTTP_SCHEMES.get(parts.scheme, parts.scheme)))


class NonceCache:
    """Nonces seen within the signature lifetime: a replayed upgrade is refused."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, float] = {}

    def first_use(self, nonce: str, now: float) -> bool:
        """True the first time `nonce` is seen within `ttl_s` of `now` (seconds)."""
        self._seen = {n: t for n, t in self._seen.items() if now - t <= self.ttl_s}
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def verify_upgrade(
    request: SignedRequest, *, api_key: str, secret: bytes, nonces: NonceCache, now: float
) -> None:
    """Raise BadSignature unless the request is signed as AudioHook requires, by `api_key`."""
    resolver = MappingKeyResolver(public_keys={api_key: secret}, private_keys={})
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.HMAC_SHA256, key_resolver=resolver
    )
    try:
        results = verifier.verify(
            request,
            max_age=datetime.timedelta(seconds=MAX_AGE_S),
            require_components=COVERED,
        )
    except (InvalidSignature, HTTPMessageSignaturesException) as error:
        raise BadSignature(str(error) or type(error).__name__) from None
    parameters = results[0].parameters
    if parameters.get("keyid") != api_key:
        raise BadSignature(f"signature keyid is not the {API_KEY_HEADER} presented")
    nonce = parameters.get("nonce")
    if not isinstance(nonce, str) or len(nonce) < MIN_NONCE_CHARS:
        raise BadSignature(f"signature nonce missing or shorter than {MIN_NONCE_CHARS} characters")
    if not nonces.first_use(nonce, now):
        raise BadSignature("signature nonce already used (replayed request)")


def sign_upgrade(
    url: str,
    headers: Mapping[str, str],
    *,
    api_key: str,
    secret: bytes,
    created: datetime.datetime | None = None,
    lifetime_s: int = MAX_AGE_S,
) -> dict[str, str]:
    """`headers` plus `Signature-Input` and `Signature`, as Genesys signs an upgrade to `url`."""
    request = SignedRequest("GET", http_url(url), dict(headers))
    when = created or datetime.datetime.now(datetime.UTC)
    resolver = MappingKeyResolver(public_keys={}, private_keys={api_key: secret})
    signer = HTTPMessageSigner(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=resolver)
    signer.sign(
        request,
        key_id=api_key,
        created=when,
        expires=when + datetime.timedelta(seconds=lifetime_s),
        nonce=secrets.token_urlsafe(24),
        label=LABEL,
        covered_component_ids=COVERED,
    )
    return request.headers
