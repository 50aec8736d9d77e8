"""Verify an OpenID Connect ID token (OpenID Connect Core 1.0 §3.1.3.7, CIBA Core 1.0 §7.4).

Pure: the token, the provider's keys and the time come in, the claims come out or an
`IdTokenError` says which check failed. The signature goes through joserfc with an explicit
list of asymmetric algorithms, so neither `none` nor an HMAC keyed with a public key passes.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from voiceauth.factors.eid.outcome import IdTokenError

SIGNING_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
"""Asymmetric algorithms accepted for ID tokens (RS256 is the OpenID default)."""
LEEWAY_S = 60
"""Clock skew tolerated between voiceauth and the provider."""
AUTH_REQ_ID_CLAIM = "urn:openid:params:jwt:claim:auth_req_id"
"""CIBA Core 1.0 §7.4: required in push mode, checked whenever a provider sends it."""


def verify_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    now: float,
    requested_at: float | None = None,
    auth_req_id: str | None = None,
    algorithms: Collection[str] = SIGNING_ALGORITHMS,
    leeway_s: int = LEEWAY_S,
) -> dict[str, Any]:
    """The token's claims once signature, iss, aud/azp, exp, iat and binding all check.

    requested_at: when the backchannel request was made (epoch s); a token issued before it
    was not issued for this request. auth_req_id: the request's id, compared with the
    token's auth_req_id claim when present.
    """
    try:
        decoded = jwt.decode(token, keys, algorithms=list(algorithms))
    except JoseError as exc:
        raise IdTokenError(f"ID token: signature or format rejected ({exc.error})") from None
    claims = decoded.claims
    if claims.get("iss") != issuer:
        raise IdTokenError(f"ID token: iss {claims.get('iss')!r} is not the issuer {issuer!r}")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdTokenError(f"ID token: aud {audience!r} does not name client {client_id!r}")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenError(f"ID token: several audiences and azp is not {client_id!r}")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise IdTokenError("ID token: exp and iat must be numeric dates")
    if exp <= now - leeway_s:
        raise IdTokenError(f"ID token: expired {now - exp:.0f} s ago")
    if iat > now + leeway_s:
        raise IdTokenError(f"ID token: issued {iat - now:.0f} s in the future")
    if requested_at is not None and iat < requested_at - leeway_s:
        raise IdTokenError("ID token: issued before the authentication request")
    bound = claims.get(AUTH_REQ_ID_CLAIM)
    if bound is not None and bound != auth_req_id:
        raise IdTokenError("ID token: auth_req_id claim is not this request's")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenError("ID token: no sub")
    return dict(claims)
