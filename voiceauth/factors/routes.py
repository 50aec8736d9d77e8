"""The IVR's and the desk's REST routes for knowledge factors and one-time codes.

Telephony scope (the IVR): `POST /calls/{id}/knowledge` (a value the IVR collected, or the
digits the caller keyed on the call), `POST /calls/{id}/otp`,
`POST /calls/{id}/otp/check`, each for the call's claimed customer, with the call's ANI
counted toward the per-ANI limit. Answers are `{"verified": bool}` and nothing else: the
caller learns neither which part was wrong nor whether a lock is in force. Request bodies
take plain strings and check them in code, so a malformed PIN or code is a failed attempt,
never a 422 that echoes the value back. Agent scope (agents and admins): set a customer's
factors and OTP destination, list which factors exist (never their values).

Each result is recorded in `Factors.results` for the call (see `results.CallFactors`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from voiceauth.api.auth import Agent, Telephony, actor
from voiceauth.calls.snapshot import CallSnapshot
from voiceauth.factors.knowledge import KnowledgeKind
from voiceauth.factors.notifier import NotifierError
from voiceauth.factors.otp import OtpOutcome, SendOutcome
from voiceauth.factors.results import FactorResult
from voiceauth.factors.service import Factors

MAX_VALUE_CHARS = 512


class CallLookup(Protocol):
    def snapshot(self, call_id: str) -> CallSnapshot: ...

    async def keyed(self, call_id: str) -> str | None: ...


class KnowledgeIn(BaseModel):
    """value: what the IVR collected; or keypad: true to check what the caller keyed on the
    call itself (RTP, Twilio or AudioSocket DTMF, ended by `#`), which the IVR never sees."""

    kind: KnowledgeKind
    value: str | None = None
    keypad: bool = False
    question: str | None = None


class CodeIn(BaseModel):
    code: str


class FactorIn(BaseModel):
    value: str
    question: str | None = Field(None, max_length=64)


class DestinationIn(BaseModel):
    channel: str = Field(max_length=8)
    address: str


def factors_router(calls: CallLookup, factors: Factors) -> APIRouter:
    router = APIRouter(tags=["factors"])

    def record(call_id: str, factor: str, verified: bool, at: datetime) -> dict[str, bool]:
        factors.results.record(call_id, FactorResult(factor, verified, at))
        return {"verified": verified}

    @router.post("/calls/{call_id}/knowledge", description="Scopes: telephony, agent, admin.")
    async def check_knowledge(
        call_id: str, body: KnowledgeIn, principal: Telephony
    ) -> dict[str, bool]:
        """Check a PIN, date of birth or security answer for the call's claimed customer."""
        call = calls.snapshot(call_id)
        value = await calls.keyed(call_id) if body.keypad else body.value
        if value is None:
            missing = "no keypad entry ended by # on this call" if body.keypad else "no value"
            raise HTTPException(409 if body.keypad else 422, missing)
        check = await asyncio.to_thread(
            factors.knowledge.verify,
            call.customer_id,
            body.kind,
            value[:MAX_VALUE_CHARS],
            call_id=call_id,
            ani=call.ani,
            actor=actor(principal),
            label=body.question,
        )
        return record(call_id, body.kind.value, check.verified, datetime.now(UTC))

    @router.post("/calls/{call_id}/otp", description="Scopes: telephony, agent, admin.")
    async def send_code(call_id: str, principal: Telephony) -> dict[str, bool]:
        """Send a one-time code to the claimed customer's registered SMS number or e-mail.

        `sent` is false when the customer has no usable destination or the call has asked for
        its maximum of codes; a gateway that fails is a 502.
        """
        call = calls.snapshot(call_id)
        try:
            outcome = await factors.codes.send(
                call.customer_id, call_id=call_id, actor=actor(principal)
            )
        except NotifierError:
            raise HTTPException(502, "the code could not be delivered") from None
        return {"sent": outcome is SendOutcome.SENT}

    @router.post("/calls/{call_id}/otp/check", description="Scopes: telephony, agent, admin.")
    async def check_code(call_id: str, body: CodeIn, principal: Telephony) -> dict[str, bool]:
        call = calls.snapshot(call_id)
        outcome = await asyncio.to_thread(
            factors.codes.check,
            call.customer_id,
            body.code[:MAX_VALUE_CHARS],
            call_id=call_id,
            actor=actor(principal),
        )
        verified = outcome is OtpOutcome.VERIFIED
        return record(call_id, "otp", verified, datetime.now(UTC))

    @router.put(
        "/customers/{customer_id}/knowledge/{kind}",
        status_code=204,
        description="Scopes: agent, admin.",
    )
    async def set_factor(
        customer_id: str, kind: KnowledgeKind, body: FactorIn, principal: Agent
    ) -> Response:
        """Enrol or replace a factor (and lift the customer's lockout)."""
        await asyncio.to_thread(
            factors.knowledge.set_factor,
            customer_id,
            kind,
            body.value,
            actor=actor(principal),
            label=body.question,
        )
        return Response(status_code=204)

    @router.get("/customers/{customer_id}/knowledge", description="Scopes: agent, admin.")
    async def list_factors(customer_id: str, _: Agent) -> list[dict[str, Any]]:
        found = await asyncio.to_thread(factors.knowledge.factors, customer_id)
        return [
            {"kind": f.kind.value, "question": f.label or None, "updated_at": f.updated_at}
            for f in found
        ]

    @router.put(
        "/customers/{customer_id}/otp-destination",
        status_code=204,
        description="Scopes: agent, admin.",
    )
    async def set_destination(customer_id: str, body: DestinationIn, principal: Agent) -> Response:
        await asyncio.to_thread(
            factors.codes.set_destination,
            customer_id,
            body.channel,
            body.address,
            actor=actor(principal),
        )
        return Response(status_code=204)

    return router
