"""A process SIGKILLed while writing leaves no half voiceprint and an intact audit chain.

Each operation is one transaction holding both the change and its audit entry, so after the
kill the database holds either all of an operation or none of it (SQLite: WAL replay on the next
open; PostgreSQL: the server rolls back the dead connection's transaction).
"""

from __future__ import annotations

import base64
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voiceauth.store import ConsentChannel, Keyring, VoiceprintStore

from .conftest import Database
from .helpers import KEY1, embedding

CHILD = Path(__file__).with_name("save_loop.py")
ROUNDS = 2
OPERATIONS_BEFORE_KILL = 12
STARTUP_TIMEOUT_S = 60.0


def _run_and_kill(url: str, customers: list[str], seed: int) -> int:
    env = {**os.environ, "VOICEAUTH_TEST_KEYRING": f"k1:{base64.b64encode(KEY1).decode()}"}
    with subprocess.Popen(
        [sys.executable, str(CHILD), url, *customers],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        done = 0
        try:
            while done < OPERATIONS_BEFORE_KILL:
                line = child.stdout.readline()
                if not line:
                    child.wait()
                    pytest.fail(f"child exited early: {child.stderr.read()[-2000:]}")
                done = int(line)
                if time.monotonic() > deadline:
                    pytest.fail(f"child did only {done} operations in {STARTUP_TIMEOUT_S} s")
            time.sleep(random.Random(seed).uniform(0.0, 0.05))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    assert child.returncode == -signal.SIGKILL
    return done


def _check_consistent(store: VoiceprintStore, customers: list[str]) -> None:
    store.verify_audit_chain()
    for customer_id in customers:
        infos = store.voiceprints(customer_id)
        if infos:
            # No voiceprint without consent, and each one decrypts.
            assert store.has_consent(customer_id)
            loaded = store.load_voiceprint(customer_id, "ge2e@1", actor="check")
            assert loaded is not None and loaded.vector.shape == (192,)
            # The stored voiceprint is exactly the one its last audited save wrote.
            saves = [e for e in store.audit_entries(customer_id) if e.action == "voiceprint.save"]
            assert saves[-1].at == infos[0].updated_at
        active = [c for c in store.consents(customer_id) if c.active]
        assert len(active) <= 1
    store.verify_audit_chain()


def test_sigkill_during_writes_leaves_database_consistent(
    database: Database, keyring: Keyring
) -> None:
    with VoiceprintStore(database.url, keyring) as store:
        customers = []
        for i in range(3):
            customer = store.add_customer(actor="setup", phones=[f"+49301234{i:02d}"])
            store.grant_consent(
                customer.id,
                actor="setup",
                text_version="v1",
                channel=ConsentChannel.APP,
                evidence="tap",
            )
            customers.append(customer.id)
    for round_number in range(ROUNDS):
        assert _run_and_kill(database.url, customers, round_number) >= OPERATIONS_BEFORE_KILL
        # A fresh start (new engine, new connections) recovers and can write again.
        with VoiceprintStore(database.url, keyring) as store:
            _check_consistent(store, customers)
            store.save_voiceprint(customers[0], embedding(3), actor="after-crash")
            _check_consistent(store, customers)
