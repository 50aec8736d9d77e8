"""Enrolment fixtures: the store fixtures (SQLite and PostgreSQL), real VCTK speech, a spy.

Speech of two VCTK speakers (p225, p226; ten ~6 s files each) is cut by the VAD once per
session; tests hand the chunks to `Enroller.enrol_speech` so that only the embedding is paid
per test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from voiceauth.audio.frontend import Speech, extract_speech
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.base import Embedder, Embedding, Vector
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.store import ConsentChannel, VoiceprintStore


class SpyEmbedder:
    """Wraps an embedder and counts calls, so tests can prove none happened (consent gate)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.calls = 0
        self.embedder_id = inner.embedder_id
        self.version = inner.version
        self.sample_rate = inner.sample_rate
        self.dimension = inner.dimension
        self.min_samples = inner.min_samples

    def embed(self, speech: Vector) -> Embedding:
        self.calls += 1
        return self._inner.embed(speech)

    def embed_batch(self, speech: list[Vector]) -> list[Embedding]:
        self.calls += 1
        return self._inner.embed_batch(speech)


def vctk_files(shared_data: Path, speaker: str) -> list[Path]:
    return sorted((shared_data / "autovc_vctk_samples" / speaker).glob("*.wav"))


@pytest.fixture(scope="session")
def vctk_speech(shared_data: Path, vad: SileroVad) -> dict[str, list[Speech]]:
    """Net speech of each of p225's and p226's files at 16 kHz."""
    return {
        speaker: [
            extract_speech(load_audio(p), vad, sample_rate=16_000)
            for p in vctk_files(shared_data, speaker)
        ]
        for speaker in ("p225", "p226")
    }


@pytest.fixture
def spy(ge2e: Ge2eEmbedder) -> SpyEmbedder:
    return SpyEmbedder(ge2e)


def chunks(speech: Sequence[Speech]) -> list[Vector]:
    return [s.samples for s in speech]


def consented(db: VoiceprintStore, customer_id: str = "cust-1") -> str:
    db.add_customer(actor="test", customer_id=customer_id)
    db.grant_consent(
        customer_id,
        actor="agent:1",
        text_version="vb-2026-01",
        channel=ConsentChannel.AGENT,
        evidence="agent confirmed",
    )
    return customer_id


def speech_seconds(speech: Sequence[Speech]) -> float:
    return float(np.sum([len(s.samples) for s in speech]) / 16_000)
