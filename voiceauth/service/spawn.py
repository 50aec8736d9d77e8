"""`voiceauth serve` as a child process on a free loopback port: for the tests and benchmarks
that drive a real server over real sockets, as a platform would.

The server's output goes to a file, never to a pipe: a pipe nobody reads while the server
runs fills with access-log lines (64 KiB, a few hundred requests) and then blocks the
server's event loop on its next log line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

READY_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def output(self) -> str:
        """What the server has printed so far (stdout and stderr)."""
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serve(settings: Mapping[str, str]) -> Iterator[Served]:
    """Start the service with these VOICEAUTH_* settings (no other VOICEAUTH_* variable of
    the caller's environment leaks in), wait until /readyz says ready, and kill it at the end
    unless the caller stopped it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEAUTH_")}
    env.update(settings)
    env["VOICEAUTH_PORT"] = str(port)
    with tempfile.TemporaryDirectory(prefix="voiceauth-serve-") as folder:
        log = Path(folder) / "serve.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "voiceauth", "serve"],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        served = Served(process, f"http://127.0.0.1:{port}", log)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _ready(served.base):
                if process.poll() is not None:
                    raise RuntimeError(f"voiceauth serve exited: {served.output()}")
                if time.monotonic() > deadline:
                    raise TimeoutError("voiceauth serve did not become ready")
                time.sleep(0.5)
            yield served
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()


def stop(process: subprocess.Popen[Any], timeout_s: float = 10.0) -> None:
    """End a helper process politely (SIGTERM), and for good if it does not go in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz").status_code == 200
    except httpx.TransportError:
        return False
