"""The API-key check every route depends on: 401 without a known key, 403 without the scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from voiceauth.api.keys import Principal, Scope
from voiceauth.api.state import api_state

API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="An API key with the route's scope (telephony, agent or admin).",
    auto_error=False,
)


def require(*scopes: Scope) -> Callable[..., Principal]:
    """A dependency admitting keys that hold any of `scopes`."""
    allowed = frozenset(scopes)

    def check(
        request: Request, key: Annotated[str | None, Security(API_KEY_HEADER)] = None
    ) -> Principal:
        if not key:
            raise HTTPException(401, "missing API key", headers={"WWW-Authenticate": "ApiKey"})
        principal = api_state(request).keys.authenticate(key)
        if principal is None:
            raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "ApiKey"})
        if not principal.scopes & allowed:
            raise HTTPException(403, "this key's scope does not allow this route")
        return principal

    return check


Telephony = Annotated[Principal, Depends(require(Scope.TELEPHONY, Scope.AGENT, Scope.ADMIN))]
"""Routes the call platform, agents and admins may use (lookups, status)."""
Agent = Annotated[Principal, Depends(require(Scope.AGENT, Scope.ADMIN))]
Enrol = Annotated[Principal, Depends(require(Scope.TELEPHONY, Scope.AGENT))]
"""Consent and enrolment happen in calls (IVR) or with an agent."""
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]


def actor(principal: Principal) -> str:
    """The audit log's name for the caller."""
    return f"api:{principal.name}"
