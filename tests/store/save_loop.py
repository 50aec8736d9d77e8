"""Child process for test_crash: writes in a tight loop until it is killed, printing a line
after each committed operation.

Usage: python save_loop.py save|erase DATABASE_URL [CUSTOMER_ID...]; keyring in
$VOICEAUTH_TEST_KEYRING, audit anchor file (optional) in $VOICEAUTH_TEST_ANCHOR.
- save: saves voiceprints of the given customers (now and then withdrawing and re-granting
  consent);
- erase: registers customers, records consent, enrols and erases them, one after another.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from voiceauth.embeddings.base import Embedding
from voiceauth.store import AuditAnchor, ConsentChannel, Keyring, VoiceprintStore


def _vector(rng: np.random.Generator) -> Embedding:
    return Embedding("ge2e", "1", rng.standard_normal(192).astype(np.float32), 20.0)


def _grant(store: VoiceprintStore, customer_id: str) -> None:
    store.grant_consent(
        customer_id, actor="child", text_version="v1", channel=ConsentChannel.APP, evidence="tap"
    )


def save_steps(store: VoiceprintStore, customers: list[str]) -> Iterator[None]:
    rng = np.random.default_rng()
    step = 0
    while True:
        customer_id = customers[step % len(customers)]
        if not store.has_consent(customer_id):  # a kill between withdrawal and re-grant
            _grant(store, customer_id)
        if step % 7 == 6:
            store.withdraw_consent(customer_id, actor="child")
            _grant(store, customer_id)
        else:
            store.save_voiceprint(
                customer_id, _vector(rng), actor="child", source_call_ids=[f"call-{step}"]
            )
        step += 1
        yield


def erase_steps(store: VoiceprintStore, _customers: list[str]) -> Iterator[None]:
    rng = np.random.default_rng()
    for number in range(10**6):
        customer_id = f"e-{os.getpid()}-{number}"
        store.add_customer(actor="child", customer_id=customer_id, phones=[f"+4940{number:07d}"])
        yield
        _grant(store, customer_id)
        yield
        store.save_voiceprint(customer_id, _vector(rng), actor="child")
        yield
        store.erase_customer(customer_id, actor="child")
        yield


MODES: dict[str, Callable[[VoiceprintStore, list[str]], Iterator[None]]] = {
    "save": save_steps,
    "erase": erase_steps,
}


def main(mode: str, url: str, customers: list[str]) -> None:
    keyring = Keyring.parse(os.environ["VOICEAUTH_TEST_KEYRING"])
    anchor_path = os.environ.get("VOICEAUTH_TEST_ANCHOR")
    anchor = None if anchor_path is None else AuditAnchor(Path(anchor_path), keyring)
    with VoiceprintStore(url, keyring, anchor=anchor) as store:
        for done, _ in enumerate(MODES[mode](store, customers), start=1):
            print(done, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
