"""`voiceauth serve` as a real process: it starts with the embedded defaults, and on SIGTERM
it refuses new calls, ends the running ones, pushes their results, and exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api.conftest import KEYS, LINES
from calls.test_webhook import SECRET, Receiver

from voiceauth.store import generate_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOICEAUTH_")},
        "VOICEAUTH_HOME": str(tmp_path),
        "VOICEAUTH_KEYS": f"k1:{generate_key()}",
        "VOICEAUTH_API_KEYS": ",".join(LINES),
        "VOICEAUTH_PORT": str(port),
        "VOICEAUTH_AUDIOSOCKET_PORT": "0",
        "VOICEAUTH_DRAIN_TIMEOUT_S": "1",
        "VOICEAUTH_WEBHOOK_URL": f"http://127.0.0.1:{receiver.server_port}/hook",
        "VOICEAUTH_WEBHOOK_SECRET": SECRET.decode(),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceauth", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.5)
        else:
            pytest.fail("voiceauth serve did not become ready")
        assert (tmp_path / "voiceauth.db").is_file()  # SQLite under the home, nothing set up
        key = {"X-API-Key": KEYS["ivr"]}
        opened = httpx.post(f"{base}/calls", json={"call_id": "running"}, headers=key)
        assert opened.status_code == 201
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    # uvicorn re-raises the signal once shut down, so the exit status says what stopped it
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    events = [json.loads(body) for body in receiver.accepted]
    assert {"event": "call.ended", "call_id": "running"}.items() <= events[-1].items()
