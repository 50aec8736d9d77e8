"""The platform's and the agent desk's side of live calls: open, claim, read, follow, end.

A platform whose audio comes by RTP or AudioSocket opens the call here first (with ANI, DNIS
and any claim); RTP calls get their UDP port in the answer. Reads and live streams are for
agents; scores are never in anything a caller could hear.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, model_validator

from voiceauth.api.auth import Agent, Telephony
from voiceauth.calls.service import CallService
from voiceauth.calls.snapshot import CallSnapshot
from voiceauth.errors import CallRejected, ConfigError
from voiceauth.transports.base import CallStart, Track

ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,128}$"


class CallIn(BaseModel):
    call_id: str = Field(pattern=ID_PATTERN)
    transport: Literal["rtp", "audiosocket", "api"] = "api"
    ani: str | None = Field(None, max_length=32)
    dnis: str | None = Field(None, max_length=32)
    customer_id: str | None = Field(None, max_length=128)
    legs: list[Track] = ["caller"]
    """The call's media legs: RTP may bring the agent's beside the caller's, on its own port."""

    @model_validator(mode="after")
    def _legs(self) -> CallIn:
        if "caller" not in self.legs or len(set(self.legs)) < len(self.legs):
            raise ValueError("legs name the caller, and may add the agent, once each")
        if len(self.legs) > 1 and self.transport != "rtp":
            raise ValueError("only RTP calls bring the agent's leg")
        return self


class ClaimIn(BaseModel):
    customer_id: str = Field(max_length=128)


class EndIn(BaseModel):
    reason: str = Field("ended by platform", max_length=200)


def call_service(request: Request) -> CallService:
    service: CallService = request.app.state.calls
    return service


Calls = Annotated[CallService, Depends(call_service)]
router = APIRouter(prefix="/calls", tags=["calls"])


def _out(snapshot: CallSnapshot) -> dict[str, Any]:
    return snapshot.to_dict()


@router.post("", status_code=201, description="Scopes: telephony, agent, admin.")
async def open_call(body: CallIn, calls: Calls, request: Request, _: Telephony) -> dict[str, Any]:
    """Open a call; the claim is the given customer, else the customer whose phone is the ANI."""
    start = CallStart(body.call_id, body.transport, body.ani, body.dnis, body.customer_id)
    await calls.start(start)
    answer: dict[str, Any] = {"call": _out(calls.snapshot(body.call_id))}
    if body.transport == "rtp":
        rtp = request.app.state.rtp
        if rtp is None:
            await calls.end(body.call_id, "no RTP listener")
            raise ConfigError("RTP is not enabled on this server")
        try:
            port = await rtp.allocate(body.call_id, agent="agent" in body.legs)
        except CallRejected:  # no ports: the platform may retry the same call id
            await calls.end(body.call_id, "no free RTP port")
            raise
        answer["rtp"] = {"host": request.app.state.media_host, "port": port}
        if "agent" in body.legs:
            answer["rtp"]["agent_port"] = rtp.port_of(body.call_id, "agent")
    return answer


@router.get("/{call_id}", description="Scopes: telephony, agent, admin.")
async def read_call(call_id: str, calls: Calls, _: Telephony) -> dict[str, Any]:
    """The call's voice state, the other factors it has passed (pin, otp, eid, ...), and the
    verification level and route all its evidence gives on its service line."""
    return _out(calls.snapshot(call_id))


@router.post("/{call_id}/claim", description="Scopes: telephony, agent, admin.")
async def claim(call_id: str, body: ClaimIn, calls: Calls, _: Telephony) -> dict[str, Any]:
    return _out(await calls.claim(call_id, body.customer_id))


@router.post("/{call_id}/end", description="Scopes: telephony, agent, admin.")
async def end_call(
    call_id: str, body: EndIn, calls: Calls, request: Request, _: Telephony
) -> dict[str, Any]:
    rtp = request.app.state.rtp
    if rtp is not None:
        await rtp.release(call_id)
    return _out(await calls.end(call_id, body.reason))


@router.get(
    "/{call_id}/events", description="Server-sent events of one call. Scopes: agent, admin."
)
async def call_events(call_id: str, calls: Calls, _: Agent) -> StreamingResponse:
    calls.snapshot(call_id)  # 404 for an unknown call before the stream starts
    return _stream(calls, call_id)


desk = APIRouter(tags=["calls"])


@desk.get(
    "/events", description="Server-sent events of every call (agent desks). Scopes: agent, admin."
)
async def all_events(calls: Calls, _: Agent) -> StreamingResponse:
    return _stream(calls, None)


def _stream(calls: CallService, call_id: str | None) -> StreamingResponse:
    subscription = calls.updates.subscribe(call_id)

    async def events() -> AsyncIterator[str]:
        try:
            if call_id is not None:
                yield _event("state", _out(calls.snapshot(call_id)))
            while (snapshot := await subscription.next()) is not None:
                yield _event("state", _out(snapshot))
                if call_id is not None and snapshot.ended:
                    return
            yield _event("closed", {"reason": subscription.closed_reason})
        finally:
            calls.updates.unsubscribe(subscription)

    return StreamingResponse(events(), media_type="text/event-stream")


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"
