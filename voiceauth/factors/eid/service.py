"""`EidSessions`: one strong-eID check per call, run in the background, read by IVR and desk.

A check starts while the caller waits in the IVR queue or when the agent asks for it mid-call;
either way it is the same check for the call (a second start while one is pending returns the
pending one, a start after a final result begins a new check). The provider is talked to in an
asyncio task (CIBA poll or ping, BankID collect); the IVR and desk read the status, the
binding message the IVR reads to the caller (CIBA) and the message to play (BankID hints).
`on_result` hands each final result to the call's factor record (the lead's wiring).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
from joserfc.jwk import ECKey, RSAKey

from voiceauth.errors import ConfigError
from voiceauth.factors.eid.bankid import BankIdClient, CallInitiator, Hint, mtls_client
from voiceauth.factors.eid.ciba import CibaClient, CibaConfig, CibaRequest
from voiceauth.factors.eid.outcome import EidError, EidResult, EidStatus
from voiceauth.settings import Settings

if TYPE_CHECKING:  # metrics imports this module's vocabulary
    from voiceauth.factors.metrics import FactorMetrics

logger = logging.getLogger(__name__)

Method = Literal["ciba", "bankid"]
StartedBy = Literal["ivr", "agent"]
KEEP_CALLS = 10_000
HTTP_TIMEOUT_S = 10.0
BINDING_DIGITS = 4
"""A short code the IVR reads and the caller finds in their app (CIBA Core 1.0 §7.1)."""


@dataclass(frozen=True, slots=True)
class EidCheck:
    """A call's eID check as the IVR and desk see it (no identifiers, no tokens)."""

    call_id: str
    customer_id: str
    method: Method
    started_by: StartedBy
    status: EidStatus
    started_at: float
    updated_at: float
    binding_message: str | None = None
    message: str | None = None
    reason: str | None = None


class EidSessions:
    """Holds each call's latest check; bounded, oldest calls forgotten first."""

    def __init__(
        self,
        *,
        ciba: CibaClient | None = None,
        bankid: BankIdClient | None = None,
        default_method: Method | None = None,
        call_initiator: CallInitiator = "user",
        on_result: Callable[[EidCheck], None] | None = None,
        metrics: FactorMetrics | None = None,
        clock: Callable[[], float] = time.time,
        keep: int = KEEP_CALLS,
    ) -> None:
        self._clients: dict[Method, CibaClient | BankIdClient] = {}
        if ciba is not None:
            self._clients["ciba"] = ciba
        if bankid is not None:
            self._clients["bankid"] = bankid
        self._ciba, self._bankid = ciba, bankid
        self.default_method = default_method or next(iter(self._clients), None)
        self._initiator = call_initiator
        self._on_result = on_result
        self._metrics = metrics
        self._clock = clock
        self._keep = keep
        self._checks: OrderedDict[str, EidCheck] = OrderedDict()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pings: dict[str, tuple[str, asyncio.Event]] = {}

    @property
    def methods(self) -> tuple[Method, ...]:
        return tuple(self._clients)

    def status(self, call_id: str) -> EidCheck | None:
        return self._checks.get(call_id)

    async def start(
        self,
        call_id: str,
        customer_id: str,
        eid_hint: str,
        *,
        method: Method | None = None,
        started_by: StartedBy = "ivr",
    ) -> EidCheck:
        """Start (or return the pending) check of the call's claimed customer."""
        chosen = method or self.default_method
        if chosen is None or chosen not in self._clients:
            raise ConfigError(
                f"eID method {chosen!r} is not configured; configured: "
                f"{', '.join(self.methods) or 'none'}"
            )
        current = self._checks.get(call_id)
        if current is not None and current.status is EidStatus.PENDING:
            return current
        now = self._clock()
        check = EidCheck(call_id, customer_id, chosen, started_by, EidStatus.PENDING, now, now)
        if chosen == "ciba" and self._ciba is not None:
            code = "".join(secrets.choice("0123456789") for _ in range(BINDING_DIGITS))
            check = replace(check, binding_message=code)
            try:
                request = await self._ciba.start(eid_hint, binding_message=code)
            except EidError as exc:
                return self._finish(check, EidResult.error(str(exc)))
            self._put(check)
            self._run(call_id, self._follow_ciba(call_id, request))
        else:
            if self._bankid is None:
                raise ConfigError("BankID is not configured")
            try:
                order = await self._bankid.phone_auth(eid_hint, call_initiator=self._initiator)
            except EidError as exc:
                return self._finish(check, EidResult.error(str(exc)))
            self._put(check)
            self._run(call_id, self._follow_bankid(call_id, order.order_ref, eid_hint))
        logger.info("eID check started", extra={"call_id": call_id, "method": chosen})
        return self._checks[call_id]

    def notify(self, auth_req_id: str, bearer: str) -> bool:
        """A CIBA ping (§10.2): wake the check if the bearer is its notification token."""
        found = self._pings.get(auth_req_id)
        if found is None or not hmac.compare_digest(found[0].encode(), bearer.encode()):
            return False
        found[1].set()
        return True

    async def aclose(self) -> None:
        """Stop following every check (the service shuts down)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow_ciba(self, call_id: str, request: CibaRequest) -> None:
        if self._ciba is None:
            return
        if request.notification_token is None:
            result = await self._ciba.poll(request)
        else:
            event = asyncio.Event()
            self._pings[request.auth_req_id] = (request.notification_token, event)
            try:
                result = await self._ciba.wait_ping(request, event)
            finally:
                self._pings.pop(request.auth_req_id, None)
        self._finish(self._checks[call_id], result)

    async def _follow_bankid(self, call_id: str, order_ref: str, personal_number: str) -> None:
        if self._bankid is None:
            return

        def hint(shown: Hint) -> None:
            self._update(call_id, message=shown.message)

        result = await self._bankid.wait(order_ref, personal_number=personal_number, on_hint=hint)
        self._finish(self._checks[call_id], result)

    def _run(self, call_id: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks[call_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._tasks.get(call_id) is finished:
                del self._tasks[call_id]
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("eID check failed", extra={"call_id": call_id})
                check = self._checks.get(call_id)
                if check is not None and check.status is EidStatus.PENDING:
                    self._finish(check, EidResult.error("internal error"))

        task.add_done_callback(done)

    def _update(self, call_id: str, *, message: str) -> None:
        check = self._checks.get(call_id)
        if check is not None and check.message != message:
            self._put(replace(check, message=message, updated_at=self._clock()))

    def _finish(self, check: EidCheck, result: EidResult) -> EidCheck:
        final = replace(check, status=result.status, reason=result.reason, updated_at=self._clock())
        self._put(final)
        logger.info(
            "eID check ended",
            extra={"call_id": check.call_id, "method": check.method, "status": result.status},
        )
        if self._metrics is not None:
            self._metrics.eid(final)
        if self._on_result is not None:
            self._on_result(final)
        return final

    def _put(self, check: EidCheck) -> None:
        self._checks[check.call_id] = check
        self._checks.move_to_end(check.call_id)
        while len(self._checks) > self._keep:
            self._checks.popitem(last=False)


def _client_key(path: Path) -> RSAKey | ECKey:
    data = path.read_bytes()
    try:
        return RSAKey.import_key(data)
    except ValueError:
        return ECKey.import_key(data)


@contextlib.asynccontextmanager
async def eid_sessions(
    settings: Settings,
    *,
    on_result: Callable[[EidCheck], None] | None = None,
    metrics: FactorMetrics | None = None,
) -> AsyncIterator[EidSessions]:
    """The configured providers' clients and the sessions, for the service's lifespan."""
    async with contextlib.AsyncExitStack() as stack:
        ciba = None
        if settings.ciba_issuer:
            if not settings.ciba_client_id:
                raise ConfigError("ciba_issuer is set but ciba_client_id is not")
            secret = settings.ciba_client_secret
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=HTTP_TIMEOUT_S))
            config = CibaConfig(
                settings.ciba_issuer,
                settings.ciba_client_id,
                client_secret=None if secret is None else secret.get_secret_value(),
                client_key=(
                    None
                    if settings.ciba_client_key is None
                    else _client_key(settings.ciba_client_key)
                ),
                mode=settings.ciba_mode,
                scope=settings.ciba_scope,
                requested_expiry_s=settings.ciba_requested_expiry_s,
                subject_claim=settings.ciba_subject_claim,
            )
            ciba = CibaClient(config, http)
        bankid = None
        if settings.bankid_url:
            cert, key, ca = settings.bankid_cert, settings.bankid_key, settings.bankid_ca
            if cert is None or key is None or ca is None:
                raise ConfigError("bankid_url needs bankid_cert, bankid_key and bankid_ca")
            http = await stack.enter_async_context(mtls_client(cert, key, ca))
            bankid = BankIdClient(settings.bankid_url, http)
        sessions = EidSessions(
            ciba=ciba,
            bankid=bankid,
            default_method=settings.eid_method,
            call_initiator=settings.bankid_call_initiator,
            on_result=on_result,
            metrics=metrics,
        )
        stack.push_async_callback(sessions.aclose)
        yield sessions
