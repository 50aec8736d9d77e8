"""The AS-norm cohort index: built from the store, follows saves and removals, hand-checked."""

from __future__ import annotations

import numpy as np
import pytest

from voiceauth.errors import ConfigError
from voiceauth.index import CohortIndex
from voiceauth.scoring.asnorm import asnorm
from voiceauth.store import VoiceprintStore

from .helpers import embedding, enrolled_customer


def _stats(vector: np.ndarray, others: list[np.ndarray], top_n: int) -> tuple[float, float]:
    unit = vector / np.linalg.norm(vector)
    sims = sorted((float(unit @ (o / np.linalg.norm(o))) for o in others), reverse=True)
    top = np.array(sims[:top_n])
    return float(top.mean()), float(top.std())


def test_build_score_follow(store: VoiceprintStore) -> None:
    ids = [enrolled_customer(store, phone=f"+49301234{i}", seed=i) for i in range(5)]
    cohort = CohortIndex.build(store, "ge2e@1", 192, actor="system:start", top_n=2)
    assert len(cohort.index) == 5 and cohort.ready
    assert store.audit_entries()[-1].action == "voiceprint.index"
    test = embedding(0).vector + 0.5 * embedding(9).vector
    enrolled = embedding(0).vector
    others = [embedding(i).vector for i in range(1, 5)]
    e_mean, e_std = _stats(enrolled, others, 2)
    t_mean, t_std = _stats(test, others, 2)
    raw = float(test @ enrolled / np.linalg.norm(test) / np.linalg.norm(enrolled))
    expected = float(asnorm(raw, e_mean, e_std, t_mean, t_std))
    assert cohort.score(test, enrolled, customer_id=ids[0]) == pytest.approx(expected, rel=1e-5)

    info = store.save_voiceprint(ids[1], embedding(11), actor="refine")
    cohort.on_saved(info, embedding(11))
    assert len(cohort.index) == 5
    [hit] = cohort.index.search(embedding(11).vector, threshold=0.99)
    assert hit.record_id == ids[1]
    store.erase_customer(ids[2], actor="dpo")
    cohort.remove(ids[2])
    rebuilt = CohortIndex.build(store, "ge2e@1", 192, actor="system:start", top_n=2)
    assert set(rebuilt.index._labels) == set(cohort.index._labels)
    small = CohortIndex("ge2e@1", 192, top_n=300)
    with pytest.raises(ConfigError, match="holds 0 voiceprints"):
        small.stats(enrolled, exclude=ids[0])
