"""Concurrent first saves of one customer's voiceprint resolve to one row, the last one wins."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from voiceauth.store import ConsentChannel, Keyring, VoiceprintStore

from .conftest import Database
from .helpers import embedding, enrolled_customer

WRITERS = 4


@pytest.mark.parametrize("round_number", range(3))
def test_concurrent_first_saves_leave_one_voiceprint(
    database: Database, keyring: Keyring, round_number: int
) -> None:
    with VoiceprintStore(database.url, keyring) as setup:
        customer_id = enrolled_customer(setup)
        setup.withdraw_consent(customer_id, actor="test")  # no voiceprint left: a first save
        setup.grant_consent(
            customer_id, actor="test", text_version="v1", channel=ConsentChannel.APP, evidence="tap"
        )
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def save(seed: int) -> None:
        # Each writer has its own engine and connections, as separate processes would.
        with VoiceprintStore(database.url, keyring) as store:
            barrier.wait()
            try:
                store.save_voiceprint(customer_id, embedding(seed), actor=f"writer-{seed}")
            except BaseException as error:  # collected: an exception in a thread is lost
                failures.append(error)

    seeds = [100 * round_number + i for i in range(WRITERS)]
    threads = [threading.Thread(target=save, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with VoiceprintStore(database.url, keyring) as store:
        [info] = store.voiceprints(customer_id)
        saves = [e for e in store.audit_entries(customer_id) if e.action == "voiceprint.save"]
        latest = saves[-WRITERS:]
        assert [e.details["replaced"] for e in latest] == [False] + [True] * (WRITERS - 1)
        winner = int(latest[-1].actor.removeprefix("writer-"))
        loaded = store.load_voiceprint(customer_id, info.model, actor="check")
        assert loaded is not None
        np.testing.assert_array_equal(loaded.vector, embedding(winner).vector)
        store.verify_audit_chain()
