"""Child process for test_crash: saves voiceprints (and now and then withdraws and re-grants
consent) in a tight loop until it is killed, printing a line after each committed operation.

Usage: python save_loop.py DATABASE_URL CUSTOMER_ID...; keyring in $VOICEAUTH_TEST_KEYRING.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from voiceauth.embeddings.base import Embedding
from voiceauth.store import ConsentChannel, Keyring, VoiceprintStore


def main(url: str, customers: list[str]) -> None:
    rng = np.random.default_rng()
    keyring = Keyring.parse(os.environ["VOICEAUTH_TEST_KEYRING"])
    with VoiceprintStore(url, keyring) as store:
        step = 0
        while True:
            customer_id = customers[step % len(customers)]
            if not store.has_consent(customer_id):  # a kill between withdrawal and re-grant
                store.grant_consent(
                    customer_id,
                    actor="child",
                    text_version="v1",
                    channel=ConsentChannel.APP,
                    evidence="tap",
                )
            if step % 7 == 6:
                store.withdraw_consent(customer_id, actor="child")
                store.grant_consent(
                    customer_id,
                    actor="child",
                    text_version="v1",
                    channel=ConsentChannel.APP,
                    evidence="tap",
                )
            else:
                vector = rng.standard_normal(192).astype(np.float32)
                store.save_voiceprint(
                    customer_id,
                    Embedding("ge2e", "1", vector, 20.0),
                    actor="child",
                    source_call_ids=[f"call-{step}"],
                )
            step += 1
            print(step, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
