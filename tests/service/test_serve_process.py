"""`voiceauth serve` as a real process: it starts with the embedded defaults, and on SIGTERM
it refuses new calls, ends the running ones, pushes their results, and exits cleanly."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api.conftest import KEYS, LINES
from calls.test_webhook import SECRET, Receiver

from voiceauth.service.spawn import serve
from voiceauth.store import generate_key


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(fail_first=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_serve_starts_with_defaults_and_drains_on_sigterm(
    tmp_path: Path, receiver: Receiver
) -> None:
    settings = {
        "VOICEAUTH_HOME": str(tmp_path),
        "VOICEAUTH_KEYS": f"k1:{generate_key()}",
        "VOICEAUTH_API_KEYS": ",".join(LINES),
        "VOICEAUTH_AUDIOSOCKET_PORT": "0",
        "VOICEAUTH_DRAIN_TIMEOUT_S": "1",
        "VOICEAUTH_WEBHOOK_URL": f"http://127.0.0.1:{receiver.server_port}/hook",
        "VOICEAUTH_WEBHOOK_SECRET": SECRET.decode(),
    }
    with serve(settings) as served:
        assert (tmp_path / "voiceauth.db").is_file()  # SQLite under the home, nothing set up
        key = {"X-API-Key": KEYS["ivr"]}
        opened = httpx.post(f"{served.base}/calls", json={"call_id": "running"}, headers=key)
        assert opened.status_code == 201
        # more log than a pipe holds (64 KiB): the server must go on answering
        with httpx.Client(base_url=served.base, timeout=10) as client:
            assert all(client.get("/healthz").status_code == 200 for _ in range(1500))
        assert len(served.output()) > 65_536
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(timeout=60)
        output, process = served.output(), served.process
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    events = [json.loads(body) for body in receiver.accepted]
    assert {"event": "call.ended", "call_id": "running"}.items() <= events[-1].items()
