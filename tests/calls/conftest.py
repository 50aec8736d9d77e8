"""Call-service fixtures: real VCTK speech as a platform would send it, a real store with
enrolled customers, and the call engine with the shipped GE2E calibration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from voiceauth.audio.channel import telephone_channel
from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.audio.io import load_audio
from voiceauth.audio.pcm import float_to_pcm16
from voiceauth.audio.resample import resample
from voiceauth.audio.vad import SileroVad
from voiceauth.audio.vad_stream import BatchedVad
from voiceauth.calls.engine import CallEngine
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.enrolment import Enroller, EnrolmentOutcome
from voiceauth.scoring.shipped import shipped_calibrations
from voiceauth.service.models import call_scoring
from voiceauth.store import ConsentChannel, VoiceprintStore

MODELS = Path(__file__).resolve().parents[2] / "models"
SPEAKERS = ("p225", "p227")
ENROL_FILES = slice(3, None)
"""Files 3.. of a speaker enrol them; files 0-2 are their calls."""

Pcm = npt.NDArray[np.int16]


def call_audio(path: Path) -> Pcm:
    """A recording as a G.711 µ-law platform delivers it: 8 kHz, companded, 16-bit."""
    audio = load_audio(path)
    narrow = resample(audio.samples, audio.sample_rate, 8000)
    return mulaw_decode(mulaw_encode(float_to_pcm16(narrow)))


@pytest.fixture(scope="session")
def speaker_files(shared_data: Path) -> dict[str, list[Path]]:
    root = shared_data / "autovc_vctk_samples"
    return {s: sorted((root / s).glob("*.wav")) for s in SPEAKERS}


@pytest.fixture(scope="session")
def calls_of(speaker_files: dict[str, list[Path]]) -> dict[str, list[Pcm]]:
    """Each speaker's first three recordings as call audio."""
    return {s: [call_audio(p) for p in files[:3]] for s, files in speaker_files.items()}


@pytest.fixture(scope="session")
def enrolment_speech(
    speaker_files: dict[str, list[Path]], vad: SileroVad
) -> dict[str, list[npt.NDArray[np.float32]]]:
    """Net speech of the enrolment recordings through the telephone channel, at 16 kHz."""
    return {
        s: [
            extract_speech(telephone_channel(load_audio(p)), vad, sample_rate=16_000).samples
            for p in files[ENROL_FILES]
        ]
        for s, files in speaker_files.items()
    }


def add_customer(db: VoiceprintStore, customer_id: str, *, consent: bool = True) -> None:
    db.add_customer(actor="test", customer_id=customer_id)
    if consent:
        db.grant_consent(
            customer_id,
            actor="agent:1",
            text_version="vb-2026-01",
            channel=ConsentChannel.AGENT,
            evidence="agent confirmed",
        )


@pytest.fixture
def enrolled(
    store: VoiceprintStore,
    ge2e: Ge2eEmbedder,
    enrolment_speech: dict[str, list[npt.NDArray[np.float32]]],
) -> VoiceprintStore:
    """p225 and p227 consented and enrolled; "silent-consent" consented, not enrolled;
    "no-consent" on file without consent."""
    for speaker in SPEAKERS:
        add_customer(store, speaker)
        result = Enroller(store, ge2e).enrol_speech(
            speaker, enrolment_speech[speaker], snr_db=30.0, clipping_ratio=0.0, actor="test"
        )
        assert result.outcome is EnrolmentOutcome.ENROLLED
    add_customer(store, "not-enrolled")
    add_customer(store, "no-consent", consent=False)
    return store


@pytest.fixture(scope="session")
def batched_vad() -> Iterator[BatchedVad]:
    yield BatchedVad()


@pytest.fixture
def engine(ge2e: Ge2eEmbedder, batched_vad: BatchedVad) -> CallEngine:
    model = f"{ge2e.embedder_id}@{ge2e.version}"
    assert shipped_calibrations(MODELS, model).cosine, "the shipped GE2E calibration is missing"
    scorer, policy = call_scoring(MODELS, model, cohort=None)
    return CallEngine(vad=batched_vad, embedder=ge2e, scorer=scorer, policy=policy)


@pytest.fixture(scope="session")
def clone_of_p225(shared_data: Path) -> Pcm:
    """YourTTS zero-shot clones of VCTK p225 (the attack the issue measures), as call audio."""
    root = shared_data / "yourtts_zeroshot_clones" / "spoof_yourtts_exp4_scl"
    return np.concatenate([call_audio(p) for p in sorted(root.glob("**/*p225*.wav"))])
