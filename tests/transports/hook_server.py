"""An AudioHook rig for tests: real API keys and client secret, the router served by a real
uvicorn server on loopback (tests/transports/server.py), and signed upgrade headers built the
way Genesys builds them."""

from __future__ import annotations

import asyncio
import base64
import datetime
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from tests.transports.recorder import RecordingSink
from tests.transports.server import app_with, serving
from voiceauth.api.keys import ApiKeys, Scope, generate_api_key
from voiceauth.calls.metrics import CallMetrics
from voiceauth.transports.audiohook import audiohook_router
from voiceauth.transports.audiohook.signature import (
    API_KEY_HEADER,
    CORRELATION_HEADER,
    ORGANIZATION_HEADER,
    SESSION_HEADER,
    sign_upgrade,
)

SECRET = base64.b64encode(b"audiohook integration client secret").decode()
"""The integration's client secret as Genesys shows it (base64)."""


def keys() -> tuple[ApiKeys, str, str]:
    """voiceauth's configured keys, with a telephony key and an agent key to present."""
    telephony, telephony_line = generate_api_key("genesys", [Scope.TELEPHONY])
    agent, agent_line = generate_api_key("desk", [Scope.AGENT])
    return ApiKeys.parse(f"{telephony_line}\n{agent_line}"), telephony, agent


@dataclass
class Rig:
    url: str
    telephony_key: str
    agent_key: str
    sink: RecordingSink = field(default_factory=RecordingSink)
    metrics: CallMetrics = field(default_factory=CallMetrics)

    def count(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(f"voiceauth_{name}_total", labels) or 0.0

    def headers(
        self,
        *,
        api_key: str | None = None,
        secret: str = SECRET,
        session_id: str | None = None,
        organization_id: str | None = None,
        created: datetime.datetime | None = None,
    ) -> dict[str, str]:
        """Upgrade headers signed as Genesys signs them (by the telephony key by default)."""
        key = api_key or self.telephony_key
        headers = {
            API_KEY_HEADER: key,
            ORGANIZATION_HEADER: organization_id or str(uuid.uuid4()),
            SESSION_HEADER: session_id or str(uuid.uuid4()),
            CORRELATION_HEADER: str(uuid.uuid4()),
        }
        raw = base64.b64decode(secret)
        return sign_upgrade(self.url, headers, api_key=key, secret=raw, created=created)


def run(
    body: Callable[[Rig], Awaitable[None]], *, sink: RecordingSink | None = None, **options: Any
) -> Rig:
    """Serve an AudioHook router over a real socket and run `body(rig)` against it."""
    configured, telephony, agent = keys()
    options.setdefault("client_secret", SecretStr(SECRET))
    options.setdefault("reconnect_grace_s", 0.2)

    async def main() -> Rig:
        rig = Rig("", telephony, agent, sink or RecordingSink())
        router = audiohook_router(rig.sink, rig.metrics, keys=configured, **options)
        async with serving(app_with(router)) as authority:
            rig.url = f"ws://{authority}/audiohook/ws"
            await body(rig)
            await asyncio.sleep(0)
        return rig

    return asyncio.run(main())
