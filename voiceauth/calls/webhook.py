"""A signed webhook for platforms that want results pushed rather than polled.

Each change of a call's voice state, and its end, is POSTed as JSON. The receiver checks
`X-Voiceauth-Signature: sha256=HEX`, the HMAC-SHA256 under the shared secret of
`{X-Voiceauth-Timestamp}.{body}`, and the timestamp's age (replays). Deliveries are retried with
exponential back-off on network errors, 429 and 5xx; a full queue drops the oldest event rather
than stall calls. The payload holds states and reasons, no scores (it may reach an IVR flow).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from voiceauth.calls.snapshot import CallSnapshot, VoiceState

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Voiceauth-Signature"
TIMESTAMP_HEADER = "X-Voiceauth-Timestamp"
DEFAULT_TOLERANCE_S = 300


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: bytes,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """What a receiver runs: a valid signature on a fresh timestamp."""
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        return False
    fresh = abs(age) <= tolerance_s
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(snapshot: CallSnapshot) -> dict[str, Any]:
    return {
        "event": "call.ended" if snapshot.ended else "call.updated",
        "call_id": snapshot.call_id,
        "customer_id": snapshot.customer_id,
        "voice_state": snapshot.voice_state.value,
        "reasons": list(snapshot.reasons),
        "ended": snapshot.ended,
        **snapshot.platform_fields(),
    }


class WebhookNotifier:
    """A call-service listener; `running()` delivers in the background."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        retries: int = 5,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        max_queue: int = 10_000,
    ) -> None:
        self.url = url
        self._secret = secret
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(max_queue)
        self._last: dict[str, VoiceState] = {}
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    def __call__(self, snapshot: CallSnapshot) -> None:
        """Queue an event when the voice state changed or the call ended."""
        if snapshot.ended:
            self._last.pop(snapshot.call_id, None)
        elif self._last.get(snapshot.call_id) is snapshot.voice_state:
            return
        else:
            self._last[snapshot.call_id] = snapshot.voice_state
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(json.dumps(payload(snapshot)).encode())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            task = asyncio.create_task(self._deliver_all(client))
            try:
                yield
            finally:
                await self._flush(task)

    async def _flush(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout=self.timeout_s)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _deliver_all(self, client: httpx.AsyncClient) -> None:
        while True:
            body = await self._queue.get()
            try:
                await self._deliver(client, body)
            finally:
                self._queue.task_done()

    async def _deliver(self, client: httpx.AsyncClient, body: bytes) -> None:
        for attempt in range(self.retries + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            }
            try:
                response = await client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("webhook attempt %d failed: %s", attempt + 1, type(exc).__name__)
            else:
                if response.status_code < 300:
                    self.delivered += 1
                    return
                if response.status_code != 429 and response.status_code < 500:
                    break  # the receiver refuses this event; retrying will not help
                log.warning("webhook attempt %d: HTTP %d", attempt + 1, response.status_code)
            await asyncio.sleep(self.backoff_s * 2**attempt)
        self.failed += 1
        log.error("webhook gave up on an event after %d attempts", attempt + 1)
