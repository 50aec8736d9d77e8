"""The attack set voiceauth makes itself: TTS, simulated replay and copy-synthesis, as a manifest.

`build_attack_set` writes 8 kHz FLAC files (the demo pages' format) and a manifest in the
columns of ../shared/data/manifest.csv to a cache folder (runs/cm-data/, never committed):

| dataset | label | what |
|---|---|---|
| synth_espeak_ng / synth_flite / synth_festival | spoof | `synth` voices on `synth.texts` |
| sim_replay | spoof | genuine LibriSpeech / VCTK clips through `replay.random_replay` |
| sim_griffinlim | spoof | genuine LibriSpeech clips through `copysynth` (mel and linear) |
| fsdd_sequences | bonafide | 8 FSDD digits of one speaker end to end (native 8 kHz calls) |

Each derived spoof keeps its source's speaker id, so training can leave out the speakers of
a held-out fold (`liveness.cmtrain`). Files are stored before the telephone channel; training
and evaluation pass every file, genuine or generated, through the same channel.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from voiceauth.audio.io import Audio, load_audio
from voiceauth.audio.resample import resample
from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import AudioFormatError, ConfigError
from voiceauth.liveness.copysynth import GriffinLim, copy_synthesise
from voiceauth.liveness.replay import random_replay, replay
from voiceauth.liveness.synth import available_voices, synthesise, texts

STORE_RATE = 8000
MANIFEST_COLUMNS = (
    "path",
    "dataset",
    "speaker",
    "label",
    "attack",
    "sample_rate",
    "channels",
    "duration_s",
    "git_blob_sha1",
    "note",
)
"""The columns of ../shared/data/manifest.csv, so both manifests read and join alike."""
VOCODERS = (GriffinLim(n_mels=80, iterations=32), GriffinLim(n_mels=None, iterations=8))
REPLAY_SOURCES = ("resemblyzer_librispeech", "autovc_vctk_samples")
COPYSYNTH_SOURCE = "resemblyzer_librispeech"
FSDD = "fsdd"


@dataclass(frozen=True, slots=True)
class AttackSetConfig:
    """Clips per TTS engine, FSDD sequences per speaker, and the longest source excerpt (s)
    that replay and copy-synthesis process."""

    tts_per_engine: int = 160
    fsdd_sequences: int = 30
    digits_per_sequence: int = 8
    max_source_s: float = 8.0
    seed: int = 0


def git_blob_sha1(data: bytes) -> str:
    """The id git gives the file's content (the manifest's `git_blob_sha1` column)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class _Writer:
    """Writes clips as 8 kHz FLAC under root and collects their manifest records."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.records: list[dict[str, str]] = []

    def add(
        self,
        audio: Audio,
        name: str,
        *,
        dataset: str,
        speaker: str,
        label: str,
        attack: str,
        note: str,
    ) -> None:
        samples = resample(audio.samples, audio.sample_rate, STORE_RATE)
        peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
        if peak > 0.99:
            samples = samples * (0.99 / peak)
        path = self.root / dataset / f"{name}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, samples, STORE_RATE, subtype="PCM_16")
        self.records.append(
            {
                "path": path.relative_to(self.root).as_posix(),
                "dataset": dataset,
                "speaker": speaker,
                "label": label,
                "attack": attack,
                "sample_rate": str(STORE_RATE),
                "channels": "1",
                "duration_s": f"{len(samples) / STORE_RATE:.3f}",
                "git_blob_sha1": git_blob_sha1(path.read_bytes()),
                "note": note,
            }
        )


def _tts(writer: _Writer, config: AttackSetConfig, tick: Callable[[], None]) -> None:
    rng = np.random.default_rng([config.seed, 1])
    by_engine = defaultdict(list)
    for voice in available_voices():
        by_engine[voice.engine].append(voice)
    for engine, voices in sorted(by_engine.items()):
        sentences = texts(config.tts_per_engine, seed=config.seed + len(engine))
        for index, text in enumerate(sentences):
            voice = voices[index % len(voices)]
            rate, pitch = float(rng.uniform(0.8, 1.25)), float(rng.uniform(0.25, 0.75))
            audio = synthesise(voice, text, rate=rate, pitch=pitch)
            writer.add(
                audio,
                f"{voice.attack}_{index:04d}",
                dataset=f"synth_{engine.replace('-', '_')}",
                speaker=voice.attack,
                label="spoof",
                attack=voice.attack,
                note=f"{engine} voice {voice.name}, rate {rate:.2f}, pitch {pitch:.2f}: {text}",
            )
            tick()


def _excerpt(row: ManifestRow, max_s: float) -> Audio:
    audio = load_audio(row.path)
    return Audio(audio.samples[: round(max_s * audio.sample_rate)], audio.sample_rate)


def _derived(
    writer: _Writer,
    rows: Sequence[ManifestRow],
    config: AttackSetConfig,
    tick: Callable[[], None],
) -> None:
    """Replay of every REPLAY_SOURCES clip but the copy-synthesised ones; copy-synthesis of
    every other LibriSpeech speaker (alternating vocoders), so each source gives one spoof."""
    rng = np.random.default_rng([config.seed, 2])
    sources = sorted(
        (r for r in rows if r.label == "bonafide" and r.dataset in REPLAY_SOURCES),
        key=lambda r: r.key,
    )
    librispeech = [r for r in sources if r.dataset == COPYSYNTH_SOURCE]
    copied = {r.key: VOCODERS[i // 2 % len(VOCODERS)] for i, r in enumerate(librispeech) if i % 2}
    for index, row in enumerate(sources):
        audio = _excerpt(row, config.max_source_s)
        vocoder = copied.get(row.key)
        if vocoder is None:
            setup = random_replay(rng)
            out = replay(audio, setup, rng)
            dataset, attack = "sim_replay", "sim_replay"
            speaker = setup.loudspeaker
            note = (
                f"replay of {row.dataset}/{row.path.name}: loudspeaker "
                f"{speaker.low_cut_hz:.0f} Hz cut, resonance {speaker.resonance_hz:.0f} Hz "
                f"+{speaker.resonance_db:.1f} dB; room RT60 {setup.room.rt60_s:.2f} s; "
                f"SNR {setup.snr_db:.0f} dB"
            )
        else:
            out = copy_synthesise(audio, vocoder, seed=config.seed + index)
            dataset, attack = "sim_griffinlim", vocoder.attack
            note = f"Griffin-Lim copy-synthesis of {row.dataset}/{row.path.name}"
        writer.add(
            out,
            f"{attack}_{index:04d}",
            dataset=dataset,
            speaker=row.speaker,
            label="spoof",
            attack=attack,
            note=note,
        )
        tick()


def _fsdd(
    writer: _Writer,
    rows: Sequence[ManifestRow],
    config: AttackSetConfig,
    tick: Callable[[], None],
) -> None:
    rng = np.random.default_rng([config.seed, 3])
    by_speaker = defaultdict(list)
    for row in rows:
        if row.dataset == FSDD and row.label == "bonafide":
            by_speaker[row.speaker].append(row)
    gap = np.zeros(round(0.12 * STORE_RATE), dtype=np.float32)
    for speaker, clips in sorted(by_speaker.items()):
        for index in range(config.fsdd_sequences):
            chosen = rng.choice(len(clips), config.digits_per_sequence, replace=False)
            parts = []
            for i in chosen:
                audio = load_audio(clips[int(i)].path)
                parts += [resample(audio.samples, audio.sample_rate, STORE_RATE), gap]
            writer.add(
                Audio(np.concatenate(parts), STORE_RATE),
                f"{speaker}_{index:03d}",
                dataset="fsdd_sequences",
                speaker=speaker,
                label="bonafide",
                attack="",
                note="FSDD digits " + " ".join(clips[int(i)].path.stem for i in chosen),
            )
            tick()


def build_attack_set(
    rows: Sequence[ManifestRow],
    out_dir: Path,
    config: AttackSetConfig,
    *,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Generate the attack set from the genuine rows given (../shared/data's manifest) into
    out_dir; returns the manifest path. Raises ConfigError when no TTS engine is installed."""
    if not available_voices():
        raise ConfigError(
            "no text-to-speech engine found: install espeak-ng, flite and festival "
            "(with festvox-kallpc16k) to build the attack set"
        )

    def tick() -> None:
        if progress is not None:
            progress(1)

    writer = _Writer(out_dir)
    try:
        _tts(writer, config, tick)
        _derived(writer, rows, config, tick)
        _fsdd(writer, rows, config, tick)
    except AudioFormatError as exc:
        raise ConfigError(f"attack set: {exc}") from exc
    manifest = out_dir / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        table = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS)
        table.writeheader()
        table.writerows(writer.records)
    return manifest
