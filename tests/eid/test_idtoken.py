"""ID token checks on tokens forged with our own keys: each defect is named, none passes."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from voiceauth.factors.eid.idtoken import AUTH_REQ_ID_CLAIM, verify_id_token
from voiceauth.factors.eid.outcome import IdTokenError

ISSUER = "https://broker.example"
CLIENT = "voiceauth"
NOW = 1_800_000_000
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "op-1"})
PROVIDER_KEYS = KeySet([RSAKey.import_key(PROVIDER_KEY.as_dict(private=False))])


def token(key: Any = PROVIDER_KEY, alg: str = "RS256", **changes: Any) -> str:
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "DK-1", "iat": NOW - 5, "exp": NOW + 300}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "op-1"}, claims, key)


def check(value: str, **options: Any) -> dict[str, Any]:
    return verify_id_token(
        value, PROVIDER_KEYS, issuer=ISSUER, client_id=CLIENT, now=NOW, **options
    )


def test_valid_token_gives_its_claims() -> None:
    assert check(token())["sub"] == "DK-1"
    assert check(token(aud=[CLIENT, "other"], azp=CLIENT))["sub"] == "DK-1"


@pytest.mark.parametrize(
    ("forged", "message"),
    [
        (token(aud="someone-else"), "aud 'someone-else' does not name client 'voiceauth'"),
        (token(aud=[CLIENT, "other"]), "several audiences and azp is not"),
        (token(iss="https://evil.example"), "iss 'https://evil.example' is not the issuer"),
        (token(exp=NOW - 120), "expired 120 s ago"),
        (token(iat=NOW + 600), "issued 600 s in the future"),
        (token(exp=None), "exp and iat must be numeric dates"),
        (token(sub=None), "no sub"),
        (token(key=RSAKey.generate_key(2048)), "signature or format rejected"),
        (token(key=OctKey.import_key(b"k" * 32), alg="HS256"), "signature or format rejected"),
        ("not.a.jwt", "signature or format rejected"),
    ],
)
def test_forged_or_stale_tokens_are_rejected(forged: str, message: str) -> None:
    with pytest.raises(IdTokenError, match=message):
        check(forged)


def test_token_from_before_the_request_is_rejected() -> None:
    with pytest.raises(IdTokenError, match="issued before the authentication request"):
        check(token(iat=NOW - 600), requested_at=NOW - 10)


def test_auth_req_id_binding() -> None:
    bound = token(**{AUTH_REQ_ID_CLAIM: "req-1"})
    assert check(bound, auth_req_id="req-1")["sub"] == "DK-1"
    with pytest.raises(IdTokenError, match="auth_req_id claim is not this request's"):
        check(bound, auth_req_id="req-2")
