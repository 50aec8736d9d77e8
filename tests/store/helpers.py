"""Helpers shared by the store tests: a hand-moved clock, embeddings, an enrolled customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from voiceauth.embeddings.base import Embedding
from voiceauth.store import ConsentChannel, VoiceprintStore

KEY1 = bytes(range(32))
KEY2 = bytes(range(100, 132))
PHONE = "+4930123456"
EVIDENCE = "DTMF 1 pressed in call c-1"


class FakeClock:
    """A clock the test moves by hand; starts 2026-01-01 00:00 UTC."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def embedding(
    seed: int = 0, *, model: tuple[str, str] = ("ge2e", "1"), dimension: int = 192
) -> Embedding:
    """A reproducible random embedding (distinctive values, easy to search for in a dump)."""
    vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return Embedding(model[0], model[1], vector, 23.5)


def enrolled_customer(store: VoiceprintStore, *, phone: str = PHONE, seed: int = 0) -> str:
    """A customer with a phone number, an active consent and one voiceprint; returns the id."""
    customer = store.add_customer(actor="test", phones=[phone], eid_hint="bankid:hint")
    store.grant_consent(
        customer.id,
        actor="agent:1",
        text_version="vb-2026-01",
        channel=ConsentChannel.IVR_DTMF,
        evidence=EVIDENCE,
    )
    store.save_voiceprint(
        customer.id, embedding(seed), actor="enrol", source_call_ids=["c-1"], snr_db=31.0
    )
    return customer.id
