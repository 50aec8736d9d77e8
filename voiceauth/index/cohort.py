"""`CohortIndex`: the AS-norm cohort as a live faiss index over the customers' voiceprints.

Built from the database at start (`store.indices.voiceprint_embeddings`), then kept in step:
an enrolment or refinement replaces the customer's vector after its commit (`upsert`, wired
to `Enroller(on_saved=...)`), a withdrawal, erasure or retention deletion removes it at once
(`remove`; the retention report names the customers).

AS-norm (Matejka et al., Interspeech 2017) normalises a raw cosine by the mean and spread of
each side's top-N cohort cosines; the claimed customer's own voiceprint is left out of the
cohort when scoring against it, or the enrolment side would compare with itself.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceauth.embeddings.base import Embedding
from voiceauth.errors import ConfigError
from voiceauth.index.vectors import VectorIndex
from voiceauth.scoring.asnorm import DEFAULT_TOP_N, asnorm
from voiceauth.scoring.cosine import cosine_pairs
from voiceauth.store.indices import voiceprint_embeddings
from voiceauth.store.records import VoiceprintInfo
from voiceauth.store.service import VoiceprintStore


class CohortIndex:
    """Customers' voiceprints of one model, keyed by customer id, for AS-norm statistics."""

    def __init__(self, model: str, dimension: int, *, top_n: int = DEFAULT_TOP_N) -> None:
        if top_n < 2:
            raise ConfigError(f"AS-norm top_n must be >= 2, got {top_n}")
        self.index = VectorIndex(model, dimension)
        self.top_n = top_n

    @property
    def model(self) -> str:
        return self.index.model

    @classmethod
    def build(
        cls,
        store: VoiceprintStore,
        model: str,
        dimension: int,
        *,
        actor: str,
        top_n: int = DEFAULT_TOP_N,
    ) -> CohortIndex:
        cohort = cls(model, dimension, top_n=top_n)
        for customer_id, embedding in voiceprint_embeddings(store, model, actor=actor):
            cohort.index.add(customer_id, embedding.vector)
        return cohort

    @property
    def ready(self) -> bool:
        """Whether there are enough other voiceprints for top-N statistics of any customer."""
        return len(self.index) > self.top_n

    def upsert(self, customer_id: str, vector: npt.ArrayLike) -> None:
        self.index.remove(customer_id)
        self.index.add(customer_id, vector)

    def on_saved(self, info: VoiceprintInfo, embedding: Embedding) -> None:
        """`Enroller(on_saved=...)` hook: follow a committed save of this model."""
        if info.model == self.model:
            self.upsert(info.customer_id, embedding.vector)

    def remove(self, customer_id: str) -> None:
        self.index.remove(customer_id)

    def stats(self, vector: npt.ArrayLike, *, exclude: str) -> tuple[float, float]:
        """Mean and population std of the top-N cohort cosines, without `exclude`'s own."""
        if not self.ready:
            raise ConfigError(
                f"AS-norm cohort of {self.model} holds {len(self.index)} voiceprints; "
                f"top_n={self.top_n} needs more than that"
            )
        hits = self.index.search(vector, threshold=-1.0, k=self.top_n + 1)
        top = np.array([h.score for h in hits if h.record_id != exclude][: self.top_n])
        return float(top.mean()), float(top.std())

    def score(self, test: npt.ArrayLike, enrolled: npt.ArrayLike, *, customer_id: str) -> float:
        """AS-norm score of a test vector against the customer's voiceprint (both (d,))."""
        raw = float(cosine_pairs(np.atleast_2d(test), np.atleast_2d(enrolled))[0])
        e_mean, e_std = self.stats(enrolled, exclude=customer_id)
        t_mean, t_std = self.stats(test, exclude=customer_id)
        return float(asnorm(raw, e_mean, e_std, t_mean, t_std))
