"""The training speakers of a manifest and their net speech, decoded once and kept in memory.

Training draws thousands of random crops; decoding files and running the VAD for each would
cost more than the network. So every file is decoded, resampled to the model rate and cut to
net speech once, at the start, and each speaker's speech is concatenated into one array that
crops are drawn from (short files such as single spoken digits then still give full crops).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad, single_threaded
from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import AudioFormatError, ConfigError, InsufficientSpeech

logger = logging.getLogger(__name__)

FileProgress = Callable[[int, int], None]
"""Called as (files done, files total) while the corpus loads."""


@dataclass(frozen=True, slots=True)
class SpeakerSplit:
    """Which speakers train and which are held out (excluded by file or by the val split)."""

    train: tuple[str, ...]
    held_out: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class SpeakerSpeech:
    """All net speech of one speaker: samples (n,) float32 at the corpus rate, from `files`."""

    speaker: str
    samples: npt.NDArray[np.float32]
    files: int


@dataclass(frozen=True, slots=True, eq=False)
class Corpus:
    """Training speakers in label order (index = class id) and what loading left out."""

    speakers: tuple[SpeakerSpeech, ...]
    sample_rate: int
    skipped_files: int
    dropped_speakers: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """Speaker names by class index."""
        return tuple(s.speaker for s in self.speakers)

    @property
    def seconds(self) -> float:
        """Total net speech in seconds."""
        return sum(len(s.samples) for s in self.speakers) / self.sample_rate


def read_speaker_list(path: Path) -> set[str]:
    """Speaker ids, one per line; blank lines and `#` comments are ignored."""
    if not path.is_file():
        raise ConfigError(f"speaker list not found: {path}")
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.add(name)
    return names


def split_speakers(
    rows: list[ManifestRow],
    *,
    exclude: set[str],
    val_fraction: float,
    max_speakers: int | None,
    seed: int,
) -> SpeakerSplit:
    """Choose training speakers among the bonafide rows, reproducibly for a seed.

    Excluded speakers never train; then a `val_fraction` share of the others is held out at
    random, and of the rest at most `max_speakers` are kept at random.
    """
    speakers = sorted({row.speaker for row in rows if row.label == "bonafide"})
    candidates = [s for s in speakers if s not in exclude]
    rng = np.random.default_rng(seed)
    order = [candidates[i] for i in rng.permutation(len(candidates))]
    held = round(val_fraction * len(order))
    validation, train = order[:held], order[held:]
    if max_speakers is not None:
        train = train[:max_speakers]
    if len(train) < 2:
        raise ConfigError(
            f"need at least 2 training speakers, got {len(train)} "
            f"({len(speakers)} bonafide speakers, {len(exclude & set(speakers))} excluded, "
            f"{held} held out for validation)"
        )
    held_out = sorted(set(validation) | (exclude & set(speakers)))
    return SpeakerSplit(train=tuple(sorted(train)), held_out=tuple(held_out))


def load_corpus(
    rows: list[ManifestRow],
    speakers: tuple[str, ...],
    vad: SileroVad,
    *,
    sample_rate: int = 16000,
    min_speech_s: float = 1.0,
    on_file: FileProgress | None = None,
) -> Corpus:
    """Decode, resample and VAD every bonafide file of `speakers`; keep net speech per speaker.

    Unreadable or speechless files are skipped (counted, logged); speakers left with less than
    `min_speech_s` of net speech are dropped, since a class with no data only adds noise.
    """
    wanted = set(speakers)
    chosen = [row for row in rows if row.label == "bonafide" and row.speaker in wanted]
    pieces: dict[str, list[npt.NDArray[np.float32]]] = {s: [] for s in speakers}
    skipped = 0
    with single_threaded():
        for done, row in enumerate(chosen, start=1):
            samples = _net_speech(row, vad, sample_rate)
            if samples is None:
                skipped += 1
            else:
                pieces[row.speaker].append(samples)
            if on_file is not None:
                on_file(done, len(chosen))
    kept: list[SpeakerSpeech] = []
    dropped: list[str] = []
    for speaker in speakers:
        parts = pieces[speaker]
        total = sum(len(p) for p in parts)
        if total < min_speech_s * sample_rate:
            dropped.append(speaker)
            continue
        kept.append(SpeakerSpeech(speaker, np.concatenate(parts).astype(np.float32), len(parts)))
    if len(kept) < 2:
        raise ConfigError(
            f"need at least 2 training speakers with {min_speech_s} s of speech, got {len(kept)}"
        )
    return Corpus(tuple(kept), sample_rate, skipped, tuple(dropped))


def _net_speech(
    row: ManifestRow, vad: SileroVad, sample_rate: int
) -> npt.NDArray[np.float32] | None:
    """The file's net speech at `sample_rate`, or None (logged) if it has none or is unusable."""
    try:
        speech = extract_speech(
            load_audio(row.path), vad, sample_rate=sample_rate, min_speech_s=0.0
        )
    except (AudioFormatError, InsufficientSpeech) as error:
        logger.info("training file skipped: %s (%s)", row.path, error)
        return None
    if len(speech.samples) == 0:
        logger.info("training file skipped: %s (no speech found)", row.path)
        return None
    return speech.samples
