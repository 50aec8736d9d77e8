"""REST routes for strong eID: start and read a call's check; the CIBA ping callback.

`POST /calls/{id}/eid` (telephony, agent, admin) starts a check of the call's claimed customer
with the customer's `eid_hint` (a MitID/broker login hint or a Swedish personal number);
`GET /calls/{id}/eid` reads it. The IVR gets the status, the binding message to read and the
message to play; agents and admins also get the reason of a failure. `POST /eid/ciba/notify`
takes the provider's ping (CIBA Core 1.0 §10.2), authenticated by the request's bearer
`client_notification_token` and no API key; register `{public_url}/eid/ciba/notify` as the
client's notification endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from voiceauth.api.auth import Telephony
from voiceauth.api.keys import Principal, Scope
from voiceauth.calls.snapshot import CallSnapshot
from voiceauth.errors import ConfigError
from voiceauth.factors.eid.service import EidCheck, EidSessions, Method, StartedBy

MAX_NOTIFICATION_BYTES = 4096


class CallLookup(Protocol):
    def snapshot(self, call_id: str) -> CallSnapshot: ...


class EidStart(BaseModel):
    method: Method | None = None


def _started_by(principal: Principal) -> StartedBy:
    return "agent" if principal.scopes & {Scope.AGENT, Scope.ADMIN} else "ivr"


def _view(check: EidCheck, principal: Principal) -> dict[str, Any]:
    view: dict[str, Any] = {
        "method": check.method,
        "status": check.status.value,
        "started_by": check.started_by,
        "binding_message": check.binding_message,
        "message": check.message,
    }
    if _started_by(principal) == "agent":
        view["reason"] = check.reason
    return view


def eid_router(
    calls: CallLookup,
    sessions: EidSessions | Callable[[], EidSessions],
    eid_hint: Callable[[str], str | None],
) -> APIRouter:
    """sessions: the sessions, or a getter when they are built in the app's lifespan;
    eid_hint: the customer's eID identifier from the store (None when none is on file)."""
    router = APIRouter(tags=["eid"])

    def current() -> EidSessions:
        return sessions if isinstance(sessions, EidSessions) else sessions()

    @router.post(
        "/calls/{call_id}/eid", status_code=202, description="Scopes: telephony, agent, admin."
    )
    async def start_eid(call_id: str, body: EidStart, principal: Telephony) -> dict[str, Any]:
        """Start a strong-eID check of the call's claimed customer (pending returns as is)."""
        call = calls.snapshot(call_id)
        if call.customer_id is None:
            raise HTTPException(409, "the call has no claimed customer")
        hint = await asyncio.to_thread(eid_hint, call.customer_id)
        if not hint:
            raise HTTPException(409, "the customer has no eID identifier on file")
        try:
            check = await current().start(
                call_id,
                call.customer_id,
                hint,
                method=body.method,
                started_by=_started_by(principal),
            )
        except ConfigError as exc:
            raise HTTPException(409, str(exc)) from None
        return _view(check, principal)

    @router.get("/calls/{call_id}/eid", description="Scopes: telephony, agent, admin.")
    async def eid_status(call_id: str, principal: Telephony) -> dict[str, Any]:
        check = current().status(call_id)
        if check is None:
            raise HTTPException(404, "no eID check for this call")
        return _view(check, principal)

    @router.post("/eid/ciba/notify", status_code=204, include_in_schema=False)
    async def ciba_notify(request: Request) -> Response:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        body = await request.body()
        if scheme.lower() != "bearer" or not bearer or len(body) > MAX_NOTIFICATION_BYTES:
            raise HTTPException(401, "bearer client_notification_token required")
        try:
            auth_req_id = (await request.json()).get("auth_req_id")
        except (ValueError, AttributeError):
            auth_req_id = None
        if not isinstance(auth_req_id, str) or not current().notify(auth_req_id, bearer):
            raise HTTPException(401, "unknown request or wrong notification token")
        return Response(status_code=204)

    return router
