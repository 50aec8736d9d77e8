"""The CIBA client against a real provider (oidc-provider on loopback): poll mode."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from joserfc.jwk import RSAKey

from eid.oidc_harness import Harness
from voiceauth.factors.eid.ciba import CibaClient, CibaConfig, CibaRequest
from voiceauth.factors.eid.outcome import EidError, EidResult, EidStatus


def config(harness: Harness, **options: object) -> CibaConfig:
    base: dict[str, object] = {
        "issuer": harness.issuer,
        "client_id": "voiceauth",
        "client_secret": harness.client_secret,
    }
    return CibaConfig(**{**base, **options})  # type: ignore[arg-type]


async def decide(
    cfg: CibaConfig, hint: str, *, then: str | None, slow_down: bool = False
) -> tuple[CibaRequest, EidResult]:
    """Start a request for `hint`; the user then approves or denies it (None: does nothing)."""
    harness_url = cfg.issuer
    async with httpx.AsyncClient(timeout=5) as http:
        client = CibaClient(cfg, http)
        request = await client.start(hint, binding_message="4821")
        if slow_down:
            await http.post(
                f"{harness_url}/admin/slow_down", json={"auth_req_id": request.auth_req_id}
            )
        polling = asyncio.create_task(client.poll(request))
        if then is not None:
            await asyncio.sleep(1.5)
            answer = await http.post(
                f"{harness_url}/admin/{then}", json={"auth_req_id": request.auth_req_id}
            )
            assert answer.status_code == 200
        return request, await polling


def test_poll_approved(harness: Harness) -> None:
    request, result = asyncio.run(decide(config(harness), "DK-1001", then="approve"))
    assert result == EidResult.approved("DK-1001")
    seen = harness.request(request.auth_req_id)
    assert seen["loginHint"] == "DK-1001"
    assert seen["bindingMessage"] == "4821"
    polls = seen["polls"]
    assert len(polls) >= 2
    assert all(b - a >= 950 for a, b in zip(polls, polls[1:], strict=False))
    assert "auth_req_id" not in repr(request) and "DK-1001" not in repr(request)


def test_poll_denied(harness: Harness) -> None:
    _, result = asyncio.run(decide(config(harness), "DK-1002", then="deny"))
    assert result.status is EidStatus.DENIED


def test_poll_expired(harness: Harness) -> None:
    start = time.monotonic()
    cfg = config(harness, requested_expiry_s=2)
    _, result = asyncio.run(decide(cfg, "DK-1003", then=None))
    assert result.status is EidStatus.EXPIRED
    assert time.monotonic() - start < 6


def test_slow_down_adds_five_seconds(harness: Harness) -> None:
    request, result = asyncio.run(
        decide(config(harness), "DK-1004", then="approve", slow_down=True)
    )
    assert result == EidResult.approved("DK-1004")
    polls = harness.request(request.auth_req_id)["polls"]
    assert len(polls) == 2, "one slow_down answer, then one poll 6 s later that gets the token"
    assert polls[1] - polls[0] >= 5_900


def test_private_key_jwt(harness: Harness, client_key: RSAKey) -> None:
    cfg = config(harness, client_id="voiceauth-jwt", client_secret=None, client_key=client_key)
    _, result = asyncio.run(decide(cfg, "DK-1005", then="approve"))
    assert result == EidResult.approved("DK-1005")


def test_wrong_client_secret_is_refused(harness: Harness) -> None:
    cfg = config(harness, client_secret="not-the-secret")
    with pytest.raises(EidError, match="refused: invalid_client"):
        asyncio.run(decide(cfg, "DK-1006", then=None))


def test_unknown_user_is_refused(harness: Harness) -> None:
    with pytest.raises(EidError, match="refused: unknown_user_id"):
        asyncio.run(decide(config(harness), "DK-nobody", then=None))


def test_subject_must_be_the_customers(harness: Harness) -> None:
    """The provider resolved the hint to someone else: not an approval for this customer."""
    _, result = asyncio.run(decide(config(harness), "DK-alias", then="approve"))
    assert result == EidResult.error("ID token sub is not the customer's eID identifier")
    trusting = config(harness, subject_claim="")
    _, result = asyncio.run(decide(trusting, "DK-alias", then="approve"))
    assert result == EidResult.approved("DK-9999")
