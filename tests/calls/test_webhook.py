"""The signed webhook against a real HTTP server on loopback, with failures and retries."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.calls.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookNotifier,
    sign,
    verify,
)

SECRET = b"shared-secret"


class Receiver(ThreadingHTTPServer):
    def __init__(self, fail_first: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.fail_first = fail_first
        self.attempts = 0
        self.accepted: list[bytes] = []


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.attempts += 1
        ok = verify(
            SECRET,
            timestamp=self.headers[TIMESTAMP_HEADER],
            body=body,
            signature=self.headers[SIGNATURE_HEADER],
        )
        if not ok:
            self.send_response(401)
        elif self.server.attempts <= self.server.fail_first:
            self.send_response(503)
        else:
            self.server.accepted.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(fail_first=getattr(request, "param", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def snap(state: VoiceState, *, ended: bool = False) -> CallSnapshot:
    return CallSnapshot("c1", "rtp", state, voice_llr=3.2, ended=ended)


def deliver(url: str, secret: bytes, snapshots: list[CallSnapshot]) -> WebhookNotifier:
    async def run() -> WebhookNotifier:
        notifier = WebhookNotifier(url, secret, backoff_s=0.01, retries=3)
        async with notifier.running():
            for snapshot in snapshots:
                notifier(snapshot)
        return notifier

    return asyncio.run(run())


@pytest.mark.parametrize("receiver", [2], indirect=True)
def test_state_changes_are_signed_retried_and_carry_no_scores(receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    states = [VoiceState.COLLECTING, VoiceState.COLLECTING, VoiceState.MATCH]
    notifier = deliver(url, SECRET, [*map(snap, states), snap(VoiceState.MATCH, ended=True)])
    assert notifier.delivered == 3 and notifier.failed == 0  # the repeat was not sent
    assert receiver.attempts == 5  # two 503s retried
    assert b'"voiceauthVerified": "true"' in receiver.accepted[1]
    assert all(b"3.2" not in body and b"llr" not in body for body in receiver.accepted)
    assert b'"event": "call.ended"' in receiver.accepted[-1]


def test_a_wrong_secret_is_refused_and_not_retried(receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    notifier = deliver(url, b"other", [snap(VoiceState.MATCH)])
    assert notifier.failed == 1 and receiver.attempts == 1 and not receiver.accepted


def test_an_unreachable_receiver_gives_up_after_the_retries() -> None:
    notifier = deliver("http://127.0.0.1:9/hook", SECRET, [snap(VoiceState.SPOOF)])
    assert notifier.failed == 1 and notifier.delivered == 0


def test_verify_refuses_stale_or_forged_events() -> None:
    body = b"{}"
    good = sign(SECRET, "1000", body)
    assert verify(SECRET, timestamp="1000", body=body, signature=good, now=1100)
    assert not verify(SECRET, timestamp="1000", body=body, signature=good, now=2000)
    assert not verify(SECRET, timestamp="1000", body=b"{ }", signature=good, now=1100)
    assert not verify(SECRET, timestamp="x", body=body, signature=good, now=1100)
