"""A BankID RP API v6.0 client (Swedish BankID, relying-party side) over mutual TLS.

BankID knows the RP by its client certificate (issued by BankID for the RP) and the RP trusts
only BankID's own CA, never the system store. In a phone call the order is `phone/auth`
(`callInitiator` "user" when the caller rang us, "RP" when we rang them); `auth` (animated QR
or autostart) is there for web and app flows. `collect` is called every two seconds until the
order is complete or failed; each pending `hintCode` maps to the message BankID's RP
guidelines recommend (RFA codes), which the IVR reads to the caller. The personal number
comes back only in `completionData` and is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from voiceauth.factors.eid.outcome import EidError, EidResult, EidStatus

logger = logging.getLogger(__name__)

COLLECT_INTERVAL_S = 2.0
"""BankID: collect every two seconds, no faster."""
MAX_WAIT_S = 360.0
"""Orders expire on BankID's side within minutes; this guards against one that never does."""
MAX_TRANSIENT_FAILURES = 3
TRANSIENT_ERRORS = frozenset({"internalError", "maintenance", "requestTimeout"})

CallInitiator = Literal["user", "RP"]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Hint:
    """What the IVR and the desk say while an order is pending or after it failed.

    rfa: the message's code in BankID's RP guidelines (None where phone orders have none).
    """

    rfa: str | None
    message: str
    status: EidStatus = EidStatus.PENDING


PENDING_HINTS = {
    "outstandingTransaction": Hint("RFA1", "Start your BankID app."),
    "noClient": Hint("RFA1", "Start your BankID app."),
    "started": Hint("RFA14", "Searching for BankID, it may take a little while."),
    "userCallConfirm": Hint(None, "Confirm in the BankID app that you are on this call."),
    "userMobileSign": Hint("RFA9", "Enter your security code in the BankID app."),
    "userSign": Hint("RFA9", "Enter your security code in the BankID app."),
}
UNKNOWN_PENDING = Hint("RFA21", "Identification in progress.")
FAILED_HINTS = {
    "userCancel": Hint("RFA6", "Action cancelled.", EidStatus.DENIED),
    "userDeclinedCall": Hint("RFA6", "Action cancelled.", EidStatus.DENIED),
    "expiredTransaction": Hint("RFA8", "BankID did not respond in time.", EidStatus.EXPIRED),
    "startFailed": Hint("RFA17", "The BankID app could not be started.", EidStatus.EXPIRED),
    "certificateErr": Hint("RFA16", "This BankID is blocked or too old.", EidStatus.ERROR),
    "cancelled": Hint("RFA3", "Action cancelled, please try again.", EidStatus.ERROR),
    "notSupportedByUserApp": Hint("RFA3", "Please update your BankID app.", EidStatus.ERROR),
}
UNKNOWN_FAILURE = Hint("RFA22", "Unknown error, please try again.", EidStatus.ERROR)


class BankIdError(EidError):
    """BankID refused a call (its errorCode) or could not be reached over mutual TLS."""

    def __init__(self, error_code: str, what: str) -> None:
        self.error_code = error_code
        super().__init__(f"BankID {what}: {error_code}")


@dataclass(frozen=True, slots=True)
class BankIdOrder:
    """An order; the QR and autostart secrets are only for the device that shows them."""

    order_ref: str
    auto_start_token: str | None = field(default=None, repr=False)
    qr_start_token: str | None = field(default=None, repr=False)
    qr_start_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Collected:
    """One collect answer; personal_number and name only when complete."""

    status: Literal["pending", "failed", "complete"]
    hint_code: str | None = None
    personal_number: str | None = field(default=None, repr=False)
    name: str | None = field(default=None, repr=False)

    @property
    def hint(self) -> Hint:
        if self.status == "failed":
            return FAILED_HINTS.get(self.hint_code or "", UNKNOWN_FAILURE)
        return PENDING_HINTS.get(self.hint_code or "", UNKNOWN_PENDING)


def mtls_context(cert: Path, key: Path, ca: Path) -> ssl.SSLContext:
    """TLS to BankID: our client certificate, and BankID's CA as the only trusted root."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    return context


def mtls_client(cert: Path, key: Path, ca: Path, *, timeout_s: float = 10.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=mtls_context(cert, key, ca), timeout=timeout_s)


class BankIdClient:
    """base_url: e.g. https://appapi2.bankid.com/rp/v6.0; `http` carries the mTLS context."""

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        interval_s: float = COLLECT_INTERVAL_S,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._interval_s = interval_s
        self._sleep = sleep

    async def auth(self, end_user_ip: str, *, user_visible_data: str | None = None) -> BankIdOrder:
        body: dict[str, str] = {"endUserIp": end_user_ip}
        body.update(_visible(user_visible_data))
        answer = await self._call("auth", body)
        return BankIdOrder(
            _string(answer, "orderRef", "auth"),
            _string(answer, "autoStartToken", "auth"),
            _string(answer, "qrStartToken", "auth"),
            _string(answer, "qrStartSecret", "auth"),
        )

    async def phone_auth(
        self,
        personal_number: str,
        *,
        call_initiator: CallInitiator,
        user_visible_data: str | None = None,
    ) -> BankIdOrder:
        body = {"personalNumber": personal_number, "callInitiator": call_initiator}
        body.update(_visible(user_visible_data))
        answer = await self._call("phone/auth", body)
        return BankIdOrder(_string(answer, "orderRef", "phone/auth"))

    async def collect(self, order_ref: str) -> Collected:
        answer = await self._call("collect", {"orderRef": order_ref})
        status = answer.get("status")
        if status == "complete":
            user = answer.get("completionData", {}).get("user", {})
            if not isinstance(user, dict) or not isinstance(user.get("personalNumber"), str):
                raise BankIdError("invalidResponse", "collect (no completionData.user)")
            return Collected("complete", None, user["personalNumber"], user.get("name"))
        if status not in ("pending", "failed"):
            raise BankIdError("invalidResponse", f"collect (status {status!r})")
        hint = answer.get("hintCode")
        return Collected(status, hint if isinstance(hint, str) else None)

    async def cancel(self, order_ref: str) -> None:
        await self._call("cancel", {"orderRef": order_ref})

    async def wait(
        self,
        order_ref: str,
        *,
        personal_number: str | None = None,
        on_hint: Callable[[Hint], None] | None = None,
    ) -> EidResult:
        """Collect until the order ends; approved only for `personal_number` when given."""
        failures = 0
        waited = 0.0
        while waited < MAX_WAIT_S:
            try:
                collected = await self.collect(order_ref)
            except BankIdError as exc:
                failures += 1
                if exc.error_code not in TRANSIENT_ERRORS | {"unreachable"}:
                    return EidResult.error(str(exc))
                if failures >= MAX_TRANSIENT_FAILURES:
                    return EidResult.error(str(exc))
            else:
                failures = 0
                if collected.status == "complete":
                    subject = collected.personal_number or ""
                    if personal_number is not None and subject != personal_number:
                        return EidResult.error("BankID identified another person")
                    return EidResult.approved(subject)
                hint = collected.hint
                if on_hint is not None:
                    on_hint(hint)
                if collected.status == "failed":
                    return EidResult(hint.status, reason=f"{collected.hint_code}: {hint.message}")
            await self._sleep(self._interval_s)
            waited += self._interval_s
        await self.cancel(order_ref)
        return EidResult.expired("BankID never ended the order")

    async def _call(self, endpoint: str, body: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._http.post(f"{self._base}/{endpoint}", json=body)
        except (httpx.TransportError, ssl.SSLError) as exc:
            # with TLS 1.3 a refused client certificate surfaces on the first read, and httpx
            # does not always wrap that alert in one of its own errors
            logger.warning("BankID %s: %s", endpoint, type(exc).__name__)
            raise BankIdError("unreachable", f"{endpoint} ({type(exc).__name__})") from None
        try:
            answer = response.json()
        except ValueError:
            raise BankIdError("invalidResponse", f"{endpoint} (not JSON)") from None
        if not isinstance(answer, dict):
            raise BankIdError("invalidResponse", f"{endpoint} (not an object)")
        if response.status_code != 200:
            code = answer.get("errorCode")
            raise BankIdError(code if isinstance(code, str) else "unknown", endpoint)
        return answer


def _visible(text: str | None) -> dict[str, str]:
    """userVisibleData: UTF-8 text, base64, shown in the app (simpleMarkdownV1)."""
    if text is None:
        return {}
    return {
        "userVisibleData": base64.b64encode(text.encode()).decode(),
        "userVisibleDataFormat": "simpleMarkdownV1",
    }


def _string(answer: dict[str, Any], name: str, endpoint: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise BankIdError("invalidResponse", f"{endpoint} (no {name})")
    return value
