"""Start the oidc-provider CIBA harness (`tests/eid/oidc/server.mjs`) with node on loopback.

node_modules is installed with `npm ci` from the committed lockfile when missing; without
node or npm, or without registry access, the tests fail saying so (CI has both).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from voiceauth.service.spawn import stop

HARNESS = Path(__file__).resolve().parent / "oidc"
NPM_CACHE = Path(tempfile.gettempdir()) / "voiceauth-npm-cache"
START_TIMEOUT_S = 15.0
CLIENT_SECRET = "harness-secret-Ae7q"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_installed() -> None:
    if (HARNESS / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.fail("the CIBA tests need Node.js >= 20 and npm on PATH (oidc-provider harness)")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--cache", str(NPM_CACHE)],
        cwd=HARNESS,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"npm ci in {HARNESS} failed (the npm registry must be reachable once):\n"
            + done.stderr[-2000:]
        )


@dataclass(frozen=True)
class Harness:
    issuer: str
    client_secret: str
    log: Path

    def admin(self, action: str, **body: str) -> dict[str, Any]:
        """Approve, deny or slow down a pending request (by auth_req_id or sub)."""
        response = httpx.post(f"{self.issuer}/admin/{action}", json=body, timeout=5)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def request(self, auth_req_id: str) -> dict[str, Any]:
        """What the provider saw of one request: hint, binding message, poll times (ms)."""
        response = httpx.get(f"{self.issuer}/admin/requests/{auth_req_id}", timeout=5)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait_pending(self, sub: str, timeout_s: float = 5.0) -> str:
        """Block until the provider holds an open request for `sub`; its auth_req_id."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            response = httpx.get(f"{self.issuer}/admin/pending", params={"sub": sub}, timeout=5)
            if response.status_code == 200:
                found: str = response.json()["auth_req_id"]
                return found
            time.sleep(0.05)
        raise AssertionError(f"no pending CIBA request for {sub!r} within {timeout_s} s")


@contextlib.contextmanager
def run_harness(
    folder: Path, *, accounts: dict[str, str], env: dict[str, str]
) -> Iterator[Harness]:
    ensure_installed()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    log = folder / "oidc-harness.log"
    environ = {
        **os.environ,
        **env,
        "PORT": str(port),
        "CLIENT_SECRET": CLIENT_SECRET,
        "ACCOUNTS": json.dumps(accounts),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", "server.mjs"], cwd=HARNESS, env=environ, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the CIBA harness exited: {log.read_text()[-2000:]}")
                try:
                    httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"the CIBA harness did not start: {log.read_text()[-2000:]}")
                    time.sleep(0.1)
            yield Harness(issuer, CLIENT_SECRET, log)
        finally:
            stop(process, timeout_s=5)
