"""A fake BankID RP API v6.0 server over mutual TLS, on loopback.

No BankID test server can be reached offline (BankID's own test environment needs the
internet and an RP test certificate), so this fake speaks the documented v6.0 JSON for
`auth`, `phone/auth`, `collect` and `cancel`: errors as HTTP 400 with `errorCode` and
`details`, `alreadyInProgress` for a second order of one personal number, `notFound` for an
unknown or cancelled order. TLS requires a client certificate from the RP CA
(`ssl.CERT_REQUIRED`) like BankID does. Each order plays a script: the collect answers it
gives in turn (pending hints, then complete or failed), the last repeated.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from eid.pki import LOOPBACK, Issued

PREFIX = "/rp/v6.0/"
PERSONAL_NUMBER = re.compile(r"^\d{12}$")
Step = tuple[str, str | None]
"""(status, hintCode): ("pending", "userSign"), ("failed", "userCancel"), ("complete", None)."""
HAPPY = [("pending", "outstandingTransaction"), ("pending", "userSign"), ("complete", None)]


@dataclass
class Order:
    personal_number: str | None
    script: list[Step]
    kind: str
    request: dict[str, Any]
    collects: int = 0
    cancelled: bool = False
    finished: bool = False


@dataclass
class FakeState:
    orders: dict[str, Order] = field(default_factory=dict)
    next_script: list[Step] = field(default_factory=lambda: list(HAPPY))
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def completion(personal_number: str) -> dict[str, Any]:
    return {
        "user": {
            "personalNumber": personal_number,
            "name": "Karl Karlsson",
            "givenName": "Karl",
            "surname": "Karlsson",
        },
        "device": {"ipAddress": "192.0.2.10", "uhi": "OZvYM9VvyiAmG7NA5jU5zC"},
        "bankIdIssueDate": "2024-01-01",
        "stepUp": {"mrtd": False},
        "signature": base64.b64encode(b"<fake-signature/>").decode(),
        "ocspResponse": base64.b64encode(b"fake-ocsp").decode(),
    }


class Handler(BaseHTTPRequestHandler):
    server: FakeBankIdServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        """Quiet: the test asserts on state, not on log lines."""

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        state = self.server.state
        endpoint = self.path.removeprefix(PREFIX) if self.path.startswith(PREFIX) else None
        with state.lock:
            state.requests.append(self.path)
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            self.error(415, "unsupportedMediaType", "Content-Type must be application/json")
            return
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.error(400, "invalidParameters", "body is not JSON")
            return
        handlers = {
            "auth": self.auth,
            "phone/auth": self.phone_auth,
            "collect": self.collect,
            "cancel": self.cancel,
        }
        if endpoint not in handlers or not isinstance(body, dict):
            self.error(404, "notFound", "no such endpoint")
            return
        with state.lock:
            handlers[endpoint](body)

    def reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status: int, code: str, details: str) -> None:
        self.reply(status, {"errorCode": code, "details": details})

    def new_order(self, personal_number: str | None, kind: str, body: dict[str, Any]) -> str:
        state = self.server.state
        for order in state.orders.values():
            active = not (order.cancelled or order.finished)
            if active and personal_number and order.personal_number == personal_number:
                order.cancelled = True  # BankID cancels both orders
                return ""
        ref = str(uuid.uuid4())
        state.orders[ref] = Order(personal_number, list(state.next_script), kind, body)
        return ref

    def auth(self, body: dict[str, Any]) -> None:
        if not isinstance(body.get("endUserIp"), str):
            self.error(400, "invalidParameters", "endUserIp is required")
            return
        ref = self.new_order(None, "auth", body)
        self.reply(
            200,
            {
                "orderRef": ref,
                "autoStartToken": str(uuid.uuid4()),
                "qrStartToken": str(uuid.uuid4()),
                "qrStartSecret": str(uuid.uuid4()),
            },
        )

    def phone_auth(self, body: dict[str, Any]) -> None:
        number = body.get("personalNumber")
        if not isinstance(number, str) or not PERSONAL_NUMBER.match(number):
            self.error(400, "invalidParameters", "personalNumber must be 12 digits")
            return
        if body.get("callInitiator") not in ("user", "RP"):
            self.error(400, "invalidParameters", "callInitiator must be user or RP")
            return
        ref = self.new_order(number, "phone/auth", body)
        if not ref:
            self.error(400, "alreadyInProgress", "an order for this user is already running")
            return
        self.reply(200, {"orderRef": ref})

    def collect(self, body: dict[str, Any]) -> None:
        order = self.server.state.orders.get(str(body.get("orderRef")))
        if order is None or order.cancelled:
            self.error(400, "notFound", "no such order")
            return
        status, hint = order.script[min(order.collects, len(order.script) - 1)]
        order.collects += 1
        order.finished = status != "pending"
        answer: dict[str, Any] = {"orderRef": body["orderRef"], "status": status}
        if status == "complete":
            answer["completionData"] = completion(order.personal_number or "199001011234")
        else:
            answer["hintCode"] = hint
        self.reply(200, answer)

    def cancel(self, body: dict[str, Any]) -> None:
        order = self.server.state.orders.get(str(body.get("orderRef")))
        if order is None or order.cancelled:
            self.error(400, "notFound", "no such order")
            return
        order.cancelled = True
        self.reply(200, {})


class FakeBankIdServer(ThreadingHTTPServer):
    """Serve in a thread: `with FakeBankIdServer(server_cert, rp_ca) as fake: fake.url`."""

    daemon_threads = True

    def __init__(self, server_cert: Issued, client_ca: Path) -> None:
        super().__init__((LOOPBACK, 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(server_cert.cert, server_cert.key)
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.state = FakeState()
        self.refused_handshakes = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.server_address[1]}/rp/v6.0"

    def get_request(self) -> tuple[Any, Any]:
        """Accept and handshake; a client without a certificate from the RP CA is counted."""
        try:
            return super().get_request()
        except ssl.SSLError:
            self.refused_handshakes += 1
            raise

    def __enter__(self) -> FakeBankIdServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()
