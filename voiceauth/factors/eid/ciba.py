"""An OpenID Connect CIBA client (Client-Initiated Backchannel Authentication Flow, Core 1.0).

voiceauth is the consumption device: it knows the caller's claimed identity (the customer's
`eid_hint`, sent as `login_hint`), asks the provider (a MitID broker, a bank's OP) to
authenticate that user on their phone, and tells the caller the `binding_message` so they can
check the prompt in their app is ours. The result comes by polling the token endpoint (poll
mode, §7.3, with `slow_down` adding 5 s to the interval as in RFC 8628 §3.5) or after the
provider's notification (ping mode, §10.2) to voiceauth's callback. Approval is the ID token,
verified by `idtoken.verify_id_token` against the provider's JWKS, with its subject held to
the hint we asked for. Secrets (client secret, notification token, tokens) are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from voiceauth.factors.eid.idtoken import verify_id_token
from voiceauth.factors.eid.outcome import EidError, EidResult, IdTokenError

logger = logging.getLogger(__name__)

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
DEFAULT_INTERVAL_S = 5.0
"""CIBA Core 1.0 §7.3: the interval when the provider names none."""
SLOW_DOWN_STEP_S = 5.0
"""RFC 8628 §3.5: each slow_down adds 5 s to this and all later polls."""
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_TTL_S = 60
MAX_TRANSIENT_FAILURES = 3
"""Consecutive unreachable or 5xx polls before the check ends in an error."""

Mode = Literal["poll", "ping"]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CibaConfig:
    """client_secret: client_secret_basic; else client_key: private_key_jwt (RSA or EC P-256).

    subject_claim: the ID token claim that must equal the login hint ("" trusts the provider's
    resolution of the hint and takes `sub`).
    """

    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_key: RSAKey | ECKey | None = field(default=None, repr=False)
    mode: Mode = "poll"
    scope: str = "openid"
    requested_expiry_s: int = 120
    subject_claim: str = "sub"


@dataclass(frozen=True, slots=True)
class CibaRequest:
    """A started backchannel authentication; times are epoch seconds."""

    auth_req_id: str = field(repr=False)
    login_hint: str = field(repr=False)
    binding_message: str
    requested_at: float
    expires_at: float
    interval_s: float
    notification_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    backchannel_endpoint: str
    token_endpoint: str
    jwks_uri: str


class CibaClient:
    """One provider, one registered client; `http` is owned (and closed) by the caller."""

    def __init__(
        self,
        config: CibaConfig,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if (config.client_secret is None) == (config.client_key is None):
            raise EidError("CIBA client needs exactly one of a client secret or a client key")
        self.config = config
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None

    async def metadata(self) -> ProviderMetadata:
        """The provider's endpoints, from its discovery document (fetched once)."""
        if self._metadata is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            doc = await self._get_json(url, "discovery document")
            if doc.get("issuer") != self.config.issuer:
                raise EidError(f"discovery: issuer {doc.get('issuer')!r} is not the one configured")
            try:
                self._metadata = ProviderMetadata(
                    str(doc["backchannel_authentication_endpoint"]),
                    str(doc["token_endpoint"]),
                    str(doc["jwks_uri"]),
                )
            except KeyError as exc:
                raise EidError(f"discovery: the provider announces no {exc.args[0]}") from None
        return self._metadata

    async def start(self, login_hint: str, *, binding_message: str) -> CibaRequest:
        """Send the backchannel authentication request (§7.1); EidError if refused."""
        meta = await self.metadata()
        form = {
            "scope": self.config.scope,
            "login_hint": login_hint,
            "binding_message": binding_message,
            "requested_expiry": str(self.config.requested_expiry_s),
        }
        token = None
        if self.config.mode == "ping":
            token = secrets.token_urlsafe(32)
            form["client_notification_token"] = token
        requested_at = self._clock()
        response = await self._post(meta.backchannel_endpoint, form)
        body = _json(response, "backchannel authentication")
        if response.status_code != 200:
            raise EidError(f"backchannel authentication refused: {_oauth_error(body)}")
        auth_req_id, expires_in = body.get("auth_req_id"), body.get("expires_in")
        interval = body.get("interval", DEFAULT_INTERVAL_S)
        if not isinstance(auth_req_id, str) or not isinstance(expires_in, int | float):
            raise EidError("backchannel authentication: no auth_req_id or expires_in")
        if not isinstance(interval, int | float) or interval < 0:
            raise EidError("backchannel authentication: interval is not a number of seconds")
        return CibaRequest(
            auth_req_id,
            login_hint,
            binding_message,
            requested_at,
            requested_at + expires_in,
            float(interval),
            token,
        )

    async def poll(self, request: CibaRequest) -> EidResult:
        """Poll the token endpoint every interval until the request is decided (poll mode)."""
        interval = request.interval_s
        failures = 0
        while True:
            await self._sleep(interval)
            answer = await self._exchange(request)
            if answer == "slow_down":
                interval += SLOW_DOWN_STEP_S
                logger.info("CIBA slow_down: polling every %.0f s", interval)
            elif answer == "unreachable":
                failures += 1
                if failures >= MAX_TRANSIENT_FAILURES:
                    return EidResult.error("the eID provider is unreachable")
            elif isinstance(answer, EidResult):
                return answer
            else:
                failures = 0
            if self._clock() > request.expires_at + 2 * interval:
                return EidResult.expired("the provider never ended the request")

    async def wait_ping(self, request: CibaRequest, notified: asyncio.Event) -> EidResult:
        """Wait for the provider's ping (§10.2), then fetch the result; expired if none."""
        while True:
            remaining = request.expires_at - self._clock()
            try:
                await asyncio.wait_for(notified.wait(), timeout=max(remaining, 0.0) + 1.0)
            except TimeoutError:
                answer = await self._exchange(request)
                return answer if isinstance(answer, EidResult) else EidResult.expired()
            notified.clear()
            answer = await self._exchange(request)
            if isinstance(answer, EidResult):
                return answer

    async def _exchange(
        self, request: CibaRequest
    ) -> EidResult | Literal["pending", "slow_down", "unreachable"]:
        """One token request (§10.1): a final result, or what to do next."""
        meta = await self.metadata()
        form = {"grant_type": CIBA_GRANT, "auth_req_id": request.auth_req_id}
        try:
            response = await self._post(meta.token_endpoint, form)
        except httpx.TransportError:
            return "unreachable"
        if response.status_code >= 500:
            return "unreachable"
        try:
            body = _json(response, "token response")
        except EidError as exc:
            return EidResult.error(str(exc))
        if response.status_code == 200:
            return await self._approved(request, body)
        error = body.get("error")
        if error == "authorization_pending":
            return "pending"
        if error == "slow_down":
            return "slow_down"
        if error == "expired_token":
            return EidResult.expired()
        if error == "access_denied":
            return EidResult.denied()
        return EidResult.error(f"token request refused: {_oauth_error(body)}")

    async def _approved(self, request: CibaRequest, body: dict[str, Any]) -> EidResult:
        token = body.get("id_token")
        if not isinstance(token, str):
            return EidResult.error("token response without an ID token")
        try:
            claims = verify_id_token(
                token,
                await self._signing_keys(token),
                issuer=self.config.issuer,
                client_id=self.config.client_id,
                now=self._clock(),
                requested_at=request.requested_at,
                auth_req_id=request.auth_req_id,
            )
        except IdTokenError as exc:
            logger.warning("CIBA ID token rejected: %s", exc)
            return EidResult.error(str(exc))
        claim = self.config.subject_claim
        if claim and claims.get(claim) != request.login_hint:
            return EidResult.error(f"ID token {claim} is not the customer's eID identifier")
        return EidResult.approved(str(claims[claim or "sub"]))

    async def _signing_keys(self, token: str) -> KeySet:
        """The provider's JWKS; fetched again once when the token names an unknown key."""
        try:
            kid = jws.extract_compact(token.encode()).headers().get("kid")
        except ValueError:
            kid = None
        known = self._keys is not None and any(k.kid == kid for k in self._keys.keys)
        if self._keys is None or (kid is not None and not known):
            meta = await self.metadata()
            self._keys = KeySet.import_key_set(await self._get_json(meta.jwks_uri, "JWKS"))  # type: ignore[arg-type]
        return self._keys

    async def _post(self, url: str, form: dict[str, str]) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if self.config.client_secret is not None:
            # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding
            pair = ":".join(
                quote(v, safe="") for v in (self.config.client_id, self.config.client_secret)
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form = {**form, **self._assertion()}
        return await self._http.post(url, data=form, headers=headers)

    def _assertion(self) -> dict[str, str]:
        """private_key_jwt (OpenID Connect Core §9): a short-lived JWT signed with our key."""
        key = self.config.client_key
        if key is None:
            raise EidError("private_key_jwt needs a client key")
        now = int(self._clock())
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": self.config.issuer,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + ASSERTION_TTL_S,
        }
        header = {"alg": "RS256" if isinstance(key, RSAKey) else "ES256"}
        if key.kid:
            header["kid"] = key.kid
        return {
            "client_id": self.config.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": jwt.encode(header, claims, key),
        }

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise EidError(f"{what}: provider unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise EidError(f"{what}: HTTP {response.status_code}")
        return _json(response, what)


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise EidError(f"{what}: the provider answered something that is not JSON") from None
    if not isinstance(body, dict):
        raise EidError(f"{what}: the provider answered JSON that is not an object")
    return body


def _oauth_error(body: dict[str, Any]) -> str:
    """The OAuth error code only: descriptions may echo request values."""
    error = body.get("error")
    return error if isinstance(error, str) and error.isascii() and len(error) < 64 else "unknown"
