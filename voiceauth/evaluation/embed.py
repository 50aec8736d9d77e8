"""Embed every usable file of an evaluation once, through the chosen channel.

A file is loaded, optionally passed through the simulated telephone channel, cut to net speech
by the VAD and embedded in batches. The test view (the first `test_seconds` of net speech) is
cut from the same VAD output, so files are decoded and segmented only once. Files that cannot
be used (unreadable, too little speech) are reported with their reason, never scored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from voiceauth.audio.channel import Channel, telephone_channel
from voiceauth.audio.frontend import Speech, extract_speech
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad
from voiceauth.data.manifest import ManifestRow
from voiceauth.embeddings.base import Embedder, Embedding
from voiceauth.errors import AudioFormatError, InsufficientSpeech


@dataclass(frozen=True, slots=True)
class EmbeddedFile:
    """One file's embeddings: `full` for enrolment and cohort, `test` for its test trials."""

    row: ManifestRow
    full: Embedding
    test: Embedding
    snr_db: float


@dataclass(frozen=True, slots=True)
class SkippedFile:
    row: ManifestRow
    reason: str


def prepare_speech(
    row: ManifestRow,
    vad: SileroVad,
    *,
    sample_rate: int,
    channel: Channel,
    packet_loss: float,
    seed: int,
    index: int,
    min_speech_s: float,
) -> Speech:
    """Load one file, pass it through `channel` and cut it to net speech at `sample_rate`."""
    audio = load_audio(row.path)
    if channel == "telephony":
        rng = np.random.default_rng([seed, index])
        audio = telephone_channel(audio, packet_loss=packet_loss, rng=rng)
    return extract_speech(audio, vad, sample_rate=sample_rate, min_speech_s=min_speech_s)


def embed_files(
    rows: Sequence[ManifestRow],
    embedder: Embedder,
    vad: SileroVad,
    *,
    channel: Channel = "wideband",
    test_seconds: float | None = None,
    min_speech_s: float = 1.0,
    packet_loss: float = 0.0,
    seed: int = 0,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
    on_speech: Callable[[ManifestRow, Speech], None] | None = None,
) -> tuple[list[EmbeddedFile], list[SkippedFile]]:
    """Embed every row once (and its test cut once); return usable files and skipped ones.

    on_speech: called with each usable file's net speech, so that another model (the
    countermeasure) sees exactly what the embedder saw without a second decode and VAD pass.
    """
    embedded: list[EmbeddedFile] = []
    skipped: list[SkippedFile] = []
    for batch in _batches(list(enumerate(rows)), batch_size):
        ready: list[tuple[ManifestRow, Speech]] = []
        for index, row in batch:
            try:
                speech = prepare_speech(
                    row,
                    vad,
                    sample_rate=embedder.sample_rate,
                    channel=channel,
                    packet_loss=packet_loss,
                    seed=seed,
                    index=index,
                    min_speech_s=min_speech_s,
                )
            except (AudioFormatError, InsufficientSpeech) as exc:
                skipped.append(SkippedFile(row, _reason(exc)))
                continue
            if on_speech is not None:
                on_speech(row, speech)
            ready.append((row, speech))
        if ready:
            embedded.extend(_embed_ready(ready, embedder, test_seconds))
        if progress is not None:
            progress(len(batch))
    return embedded, skipped


def _embed_ready(
    ready: list[tuple[ManifestRow, Speech]], embedder: Embedder, test_seconds: float | None
) -> list[EmbeddedFile]:
    full = embedder.embed_batch([speech.samples for _, speech in ready])
    if test_seconds is None:
        tests = full
    else:
        limit = int(test_seconds * embedder.sample_rate)
        cut = [i for i, (_, speech) in enumerate(ready) if len(speech.samples) > limit]
        cut_embeddings = embedder.embed_batch([ready[i][1].samples[:limit] for i in cut])
        tests = list(full)
        for i, embedding in zip(cut, cut_embeddings, strict=True):
            tests[i] = embedding
    return [
        EmbeddedFile(row, f, t, speech.quality.snr_db)
        for (row, speech), f, t in zip(ready, full, tests, strict=True)
    ]


def _reason(exc: Exception) -> str:
    if isinstance(exc, InsufficientSpeech):
        return "insufficient net speech"
    return str(exc).split(":")[0]


def _batches(
    items: list[tuple[int, ManifestRow]], size: int
) -> Iterator[list[tuple[int, ManifestRow]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
