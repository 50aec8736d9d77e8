"""Caller-ID lookup in a CRM over REST, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from voiceauth.audio.vad_stream import BatchedVad
from voiceauth.calls.engine import CallEngine
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.service import CallService
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.errors import ConfigError, DirectoryUnavailable
from voiceauth.factors.directory import CrmDirectory
from voiceauth.service.models import call_scoring
from voiceauth.store import VoiceprintStore
from voiceauth.transports.base import CallStart

MODELS = Path(__file__).resolve().parents[2] / "models"
TOKEN = "crm-token"
BOOK = {"+46701234567": "C-1", "+46700000000": "slow", "+46709999999": "broken"}


class Crm(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[str] = []

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the slow answer finds its client gone (it timed out): expected here


class Handler(BaseHTTPRequestHandler):
    server: Crm

    def do_GET(self) -> None:
        phone = parse_qs(urlsplit(self.path).query)["phone"][0]
        self.server.seen.append(phone)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, b"{}")
        elif BOOK.get(phone) == "slow":
            time.sleep(1.0)
            self._reply(200, b"{}")
        elif BOOK.get(phone) == "broken":
            self._reply(200, b"<html>oops</html>")
        elif phone in BOOK:
            self._reply(200, json.dumps({"customer": {"id": BOOK[phone]}}).encode())
        else:
            self._reply(404, b"{}")

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def crm() -> Iterator[Crm]:
    server = Crm()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def lookup(crm: Crm, ani: str, *, token: str = TOKEN) -> str | None:
    directory = CrmDirectory(
        f"http://127.0.0.1:{crm.server_port}/customers?phone={{ani}}",
        customer_field="customer.id",
        token=token,
        timeout_s=0.3,
    )
    return asyncio.run(directory.customer_for(ani))


def test_found_missing_and_failing_lookups(crm: Crm) -> None:
    assert lookup(crm, "+46701234567") == "C-1"
    assert crm.seen[-1] == "+46701234567"  # the + survived URL quoting
    assert lookup(crm, "+4670555") is None  # 404: nobody
    with pytest.raises(DirectoryUnavailable, match="not JSON"):
        lookup(crm, "+46709999999")
    with pytest.raises(DirectoryUnavailable, match="Timeout"):
        lookup(crm, "+46700000000")  # slower than the timeout
    with pytest.raises(DirectoryUnavailable, match="HTTP 401"):
        lookup(crm, "+46701234567", token="wrong")


def test_the_template_must_take_the_number() -> None:
    with pytest.raises(ConfigError, match="{ani}"):
        CrmDirectory("https://crm.example/customers")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_call_is_claimed_by_the_crm_when_the_number_is_not_on_file(
    crm: Crm, store: VoiceprintStore, ge2e: Ge2eEmbedder
) -> None:
    directory = CrmDirectory(
        f"http://127.0.0.1:{crm.server_port}/customers?phone={{ani}}",
        customer_field="customer.id",
        token=TOKEN,
    )

    async def run() -> tuple[str | None, str | None]:
        service = CallService(store, CallMetrics(), directory=directory)
        model = f"{ge2e.embedder_id}@{ge2e.version}"
        scorer, policy = call_scoring(MODELS, model, cohort=None)
        service.attach(CallEngine(vad=BatchedVad(), embedder=ge2e, scorer=scorer, policy=policy))
        await service.start(CallStart("a", "test", ani="+46701234567"))
        await service.start(CallStart("b", "test", ani="+46705555555"))
        await service.start(CallStart("down", "test", ani="+46709999999"))  # answers garbage
        down = service.snapshot("down")
        assert down.customer_id is None and "CRM could not look" in down.reasons[0]
        assert down.assessment is not None and down.assessment.route == "agent_unauthenticated"
        return service.snapshot("a").customer_id, service.snapshot("b").customer_id

    assert asyncio.run(run()) == ("C-1", None)
