"""A real Prometheus server scrapes a real `voiceauth serve`: the series an operator graphs
and alerts on arrive with the values of the traffic driven through the REST API."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from api.conftest import KEYS, LINES

from voiceauth.service.spawn import free_port, serve, stop
from voiceauth.store import generate_key

PROMETHEUS = Path("/usr/bin/prometheus")
READY_TIMEOUT_S = 60
SCRAPE_TIMEOUT_S = 60
PIN = "739152"
WRONG = "111111"
ANI = "+4930123456"

pytestmark = pytest.mark.skipif(
    not PROMETHEUS.exists(),
    reason=f"{PROMETHEUS} is absent: install the Debian package (scripts/system-packages)",
)


@contextmanager
def prometheus(target: str, folder: Path) -> Iterator[str]:
    """A Prometheus server scraping `target` (host:port) every second as job "voiceauth";
    yields its base URL once /-/ready answers, and stops it at the end."""
    config = folder / "prometheus.yml"
    scrape = {"job_name": "voiceauth", "static_configs": [{"targets": [target]}]}
    config.write_text(  # JSON is YAML
        json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": [scrape]})
    )
    base = f"127.0.0.1:{free_port()}"
    log = (folder / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address={base}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _answers(f"http://{base}/-/ready"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not start: {config.parent / 'prometheus.log'}")
            time.sleep(0.2)
        yield f"http://{base}"
    finally:
        stop(process, timeout_s=30)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def query(base: str, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
    """An instant query: each series' labels (without the name) -> value."""
    answer = httpx.get(f"{base}/api/v1/query", params={"query": promql}).json()
    assert answer["status"] == "success", answer
    return {
        tuple(sorted((k, v) for k, v in r["metric"].items() if k != "__name__")): float(
            r["value"][1]
        )
        for r in answer["data"]["result"]
    }


def scraped_after(base: str, since: float) -> None:
    """Wait for a scrape that began after `since` (Unix time): it holds all traffic before."""
    deadline = time.monotonic() + SCRAPE_TIMEOUT_S
    while max(query(base, 'timestamp(up{job="voiceauth"})').values(), default=0.0) <= since:
        if time.monotonic() > deadline:
            raise TimeoutError("prometheus has not scraped voiceauth since the traffic")
        time.sleep(0.5)


def value(base: str, promql: str) -> float:
    (found,) = query(base, promql).values()
    return found


def test_prometheus_scrapes_calls_checks_lockouts_and_outcomes(tmp_path: Path) -> None:
    settings = {
        "VOICEAUTH_HOME": str(tmp_path / "home"),
        "VOICEAUTH_KEYS": f"k1:{generate_key()}",
        "VOICEAUTH_API_KEYS": ",".join(LINES),
        "VOICEAUTH_AUDIOSOCKET_PORT": "0",
        "VOICEAUTH_CM": "none",
        "VOICEAUTH_KNOWLEDGE_LOCKOUT_AFTER": "3",  # the call's 3 attempts can lock the customer
    }
    ivr, desk = {"X-API-Key": KEYS["ivr"]}, {"X-API-Key": KEYS["desk"]}
    with serve(settings) as served, prometheus(served.base.removeprefix("http://"), tmp_path) as p:
        with httpx.Client(base_url=served.base) as api:
            added = api.post("/customers", json={"customer_id": "cust-1"}, headers=desk)
            assert added.status_code == 201
            put = api.put("/customers/cust-1/knowledge/pin", json={"value": PIN}, headers=desk)
            assert put.status_code == 204
            call = {"call_id": "prom-1", "transport": "api", "customer_id": "cust-1", "ani": ANI}
            assert api.post("/calls", json=call, headers=ivr).status_code == 201
            answers = [
                api.post(
                    "/calls/prom-1/knowledge", json={"kind": "pin", "value": v}, headers=ivr
                ).json()
                for v in (WRONG, WRONG, WRONG, PIN)  # the right PIN comes after the lockout
            ]
            assert answers == [{"verified": False}] * 4
            assert api.post("/calls/prom-1/end", json={}, headers=ivr).status_code == 200
        scraped_after(p, time.time())
        assert value(p, 'up{job="voiceauth"}') == 1
        assert query(p, 'sum by (scope) (voiceauth_lockouts_total{job="voiceauth"})') == {
            (("scope", "customer"),): 1,
            (("scope", "ani"),): 1,
        }
        assert query(p, "sum by (kind, outcome) (voiceauth_knowledge_checks_total > 0)") == {
            (("kind", "pin"), ("outcome", "mismatch")): 3,
            (("kind", "pin"), ("outcome", "locked")): 1,
        }
        assert value(p, 'sum(voiceauth_calls_total{transport="api"})') == 1
        assert value(p, "voiceauth_active_calls") == 0
        assert query(p, "sum by (level, route) (voiceauth_call_outcomes_total)") == {
            (("level", "1"), ("route", "step_up")): 1,  # identified, nothing verified
        }
        assert value(p, "sum(voiceauth_countermeasure_rejections_total)") == 0
