"""eID fixtures: a throwaway PKI and the real CIBA provider (oidc-provider) on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

from eid.oidc_harness import Harness, free_port, run_harness
from eid.pki import TestCa

ACCOUNTS = {
    # login_hint (the customer's eid_hint) -> the subject the provider authenticates
    **{f"DK-{n}": f"DK-{n}" for n in range(1001, 1013)},
    "DK-alias": "DK-9999",
}


@pytest.fixture(scope="session")
def eid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("eid")


@pytest.fixture(scope="session")
def ping_ca(eid_dir: Path) -> TestCa:
    """The CA of voiceauth's HTTPS ping callback (the provider trusts it, nothing else)."""
    return TestCa(eid_dir / "ping-pki", "ping")


@pytest.fixture(scope="session")
def client_key() -> RSAKey:
    """The private_key_jwt client's key; its public half is registered at the provider."""
    return RSAKey.generate_key(2048, parameters={"kid": "voiceauth-test"})


@pytest.fixture(scope="session")
def ping_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def harness(
    eid_dir: Path, ping_ca: TestCa, client_key: RSAKey, ping_port: int
) -> Iterator[Harness]:
    public = {"keys": [client_key.as_dict(private=False)]}
    env = {
        "CLIENT_JWKS": json.dumps(public),
        "PING_ENDPOINT": f"https://127.0.0.1:{ping_port}/eid/ciba/notify",
        "NODE_EXTRA_CA_CERTS": str(ping_ca.cert),
        "INTERVAL": "1",
    }
    with run_harness(eid_dir, accounts=ACCOUNTS, env=env) as running:
        yield running
