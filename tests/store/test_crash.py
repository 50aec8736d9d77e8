"""A process SIGKILLed while enrolling or erasing leaves no half voiceprint, no orphaned row or
index entry, and an intact audit chain that still holds its anchor.

Each operation is one transaction holding both the change and its audit entry, so after the
kill the database holds either all of an operation or none of it (SQLite: WAL replay on the next
open; PostgreSQL: the server rolls back the dead connection's transaction). The indices live in
memory and are rebuilt from the database at the next start, so they cannot disagree with it.
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
from sqlalchemy import text

from voiceauth.errors import UnknownCustomer
from voiceauth.index import CohortIndex
from voiceauth.store import AuditAnchor, ConsentChannel, Keyring, VoiceprintStore

from .conftest import Database
from .helpers import KEY1, embedding, enrolled_customer

CHILD = Path(__file__).with_name("save_loop.py")
ROUNDS = 2
OPERATIONS_BEFORE_KILL = 12
STARTUP_TIMEOUT_S = 60.0


def _run_and_kill(args: list[str], seed: int, anchor: Path | None = None) -> int:
    env = {**os.environ, "VOICEAUTH_TEST_KEYRING": f"k1:{base64.b64encode(KEY1).decode()}"}
    if anchor is not None:
        env["VOICEAUTH_TEST_ANCHOR"] = str(anchor)
    with subprocess.Popen(
        [sys.executable, str(CHILD), *args],
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
        done = _run_and_kill(["save", database.url, *customers], round_number)
        assert done >= OPERATIONS_BEFORE_KILL
        # A fresh start (new engine, new connections) recovers and can write again.
        with VoiceprintStore(database.url, keyring) as store:
            _check_consistent(store, customers)
            if not store.has_consent(customers[0]):  # killed between withdrawal and re-grant
                store.grant_consent(
                    customers[0],
                    actor="after-crash",
                    text_version="v1",
                    channel=ConsentChannel.APP,
                    evidence="tap",
                )
            store.save_voiceprint(customers[0], embedding(3), actor="after-crash")
            _check_consistent(store, customers)


def _orphans(store: VoiceprintStore) -> dict[str, int]:
    """Rows of each customer-owned table whose customer is gone (must all be 0)."""
    with store.transaction() as session:
        return {
            table: int(
                session.scalar(
                    text(
                        f"SELECT count(*) FROM {table} WHERE customer_id NOT IN "
                        "(SELECT id FROM customers)"
                    )
                )
                or 0
            )
            for table in ("customer_phones", "consents", "voiceprints")
        }


def test_sigkill_during_erasures_leaves_database_consistent(
    database: Database, keyring: Keyring, tmp_path: Path
) -> None:
    anchor = AuditAnchor(tmp_path / "audit-anchor.json", keyring)
    for round_number in range(ROUNDS):
        _run_and_kill(["erase", database.url], round_number, tmp_path / "audit-anchor.json")
        with VoiceprintStore(database.url, keyring, anchor=anchor) as store:
            store.verify_audit_chain()  # intact, and not behind what the child anchored
            assert _orphans(store) == {"customer_phones": 0, "consents": 0, "voiceprints": 0}
            entries = store.audit_entries()
            added = {str(e.customer_id) for e in entries if e.action == "customer.add"}
            erased = {str(e.customer_id) for e in entries if e.action == "customer.erase"}
            assert len(erased) >= OPERATIONS_BEFORE_KILL // 4 - 1
            enrolled = set()
            for customer_id in sorted(added):
                if customer_id in erased:
                    with pytest.raises(UnknownCustomer):
                        store.get_customer(customer_id)
                elif store.voiceprints(customer_id):
                    assert store.has_consent(customer_id)
                    enrolled.add(customer_id)
            # The next start rebuilds the index from the database: nothing erased comes back.
            cohort = CohortIndex.build(store, "ge2e@1", 192, actor="system:restart")
            assert len(cohort.index) == len(enrolled)
            assert all(c in cohort.index for c in enrolled)
            # ... and the store takes writes again, the erasure included.
            survivor = enrolled_customer(store, phone=f"+4930999{round_number:04d}", seed=9)
            assert store.erase_customer(survivor, actor="after-crash").voiceprints == 1
            store.verify_audit_chain()
