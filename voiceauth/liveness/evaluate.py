"""Countermeasure evaluation: bona fide against spoofed files of a manifest, through a channel.

The figure of merit is the countermeasure EER (ASVspoof's t-DCF-free headline figure): the
operating point where as many bona fide files are rejected as spoofed ones accepted. It is
given overall, per attack (that attack's spoofs against *all* bona fide files, as ASVspoof
reports per-attack EERs) and per dataset (a demo page's spoofs against that page's own genuine
clips: same corpus, microphone and loudness, so the detector cannot win on the source alone).

The spoofs in ../shared/data are 8 kHz, so comparing them with 16 kHz bona fide speech would
measure bandwidth; the `telephony` channel passes every file through the same simulated G.711
call (`audio.channel.telephone_channel`) and upsamples it to the detector's rate, the setting
in which the figures are comparable. No VAD is applied unless `net_speech` asks: detectors are
trained on whole utterances, leading and trailing silence included, and silence carries
artefacts too; a call, though, feeds its detector only the VAD's net speech
(`liveness.streaming`), which `net_speech` measures.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from math import ceil, floor
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceauth.audio.channel import (
    CHANNELS,
    TELEPHONE_RATE,
    Channel,
    Codec,
    telephone_channel,
)
from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import Audio, load_audio
from voiceauth.audio.resample import resample
from voiceauth.audio.transcode import transcode
from voiceauth.audio.vad import VAD_RATES, SileroVad, single_threaded
from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import AudioFormatError, InsufficientSpeech
from voiceauth.liveness.base import Countermeasure
from voiceauth.scoring.metrics import eer

BATCH_FILES = 4
"""Files scored together: enough windows to batch, little audio held at once."""
MIN_NET_SECONDS = 1.0
"""A file in which the VAD finds less speech is scored whole: a call would not score it at all
(`liveness.streaming` waits for 3 s), but a measurement must keep every file's score."""


@dataclass(frozen=True, slots=True)
class CmEvalConfig:
    """channel: wideband (resample only) or telephony (G.711 `codec`, `packet_loss`, and
    when `leg_codec` names one of `audio.transcode.LEG_CODECS`, a mobile or VoIP leg coded
    with it before the G.711 network).
    max_files: score a seeded, balanced sample of at most this many files (see `sample_rows`).
    max_seconds: score only each file's first seconds, as a call would after that much audio
    (and to bound the cost of long clips).
    net_speech: score only the speech the VAD finds in those seconds (`call_speech`)."""

    channel: Channel = "telephony"
    codec: Codec = "mulaw"
    packet_loss: float = 0.0
    leg_codec: str | None = None
    max_files: int | None = None
    max_seconds: float | None = None
    net_speech: bool = False
    seed: int = 0


@dataclass(frozen=True, slots=True)
class ScoredFile:
    row: ManifestRow
    score: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class CmEvalResult:
    """The JSON-ready report and every file's score (for a scores CSV or calibration)."""

    report: dict[str, Any]
    scored: list[ScoredFile]


FAMILIES = {
    "zero-shot cloning": (
        "styletts2_demo",
        "hierspeechpp_demo",
        "plachtaa_vallex_seedvc",
        "yourtts_zeroshot_clones",
    ),
    "voice conversion": (
        "lvcvc_demo",
        "adainvc",
        "vqmivc",
        "speechsplit",
        "quickvc",
        "assemvc",
        "vqvc_plus",
        "vtn_taslp",
    ),
    "text-to-speech": (
        "fastspeech2",
        "adaspeech2",
        "adaspeech4",
        "glowtts",
        "gradtts",
        "vits",
        "espnet_tts",
        "priorgrad",
    ),
    "neural vocoder": ("hifigan", "melgan", "diffwave", "bigvgan", "fastdiff", "r9y9_wavenet"),
    "debian tts": ("synth_espeak_ng", "synth_flite", "synth_festival"),
    "simulated replay": ("sim_replay",),
    "griffin-lim copy-synthesis": ("sim_griffinlim",),
}
"""Attack families by page (../shared/data/README.md groups the demo pages this way) and by
the datasets `liveness.attackset` writes; a `_copysynth` attack is a neural vocoder's wherever
it appears."""
SPOOF_ACCEPT_AT_BONAFIDE = 0.90
"""The issue's operating point: the share of spoofs accepted while 90 % of genuine pass."""
BONAFIDE_ACCEPT_AT_SPOOF = 0.01
"""... and the share of genuine accepted while 1 % of spoofs pass."""


def family_of(row: ManifestRow) -> str:
    """The attack family of a spoof row (see FAMILIES); `other` when its page is not listed."""
    if row.attack.endswith("_copysynth") and not row.dataset.startswith("sim_"):
        return "neural vocoder"
    for family, datasets in FAMILIES.items():
        if row.dataset in datasets:
            return family
    return "other"


def attack_of(row: ManifestRow) -> str:
    """The attack a spoof row belongs to; rows that name none are grouped by dataset."""
    return row.attack or f"unnamed:{row.dataset or 'unknown'}"


def sample_rows(rows: Sequence[ManifestRow], max_files: int, seed: int) -> list[ManifestRow]:
    """A seeded sample of at most max_files rows, half bona fide and half spoof.

    Within each half, groups (bona fide: dataset; spoof: attack) are visited round-robin in a
    seeded order, one shuffled row at a time, so every page and every attack is represented
    before any gets a second file: a small sample still gives a figure per attack family.
    """
    rng = random.Random(seed)
    bonafide = [r for r in rows if r.label == "bonafide"]
    spoof = [r for r in rows if r.label == "spoof"]
    half = max_files // 2
    take_bona = min(len(bonafide), max(half, max_files - len(spoof)))
    take_spoof = min(len(spoof), max_files - take_bona)
    chosen = _round_robin(bonafide, lambda r: r.dataset, take_bona, rng)
    chosen += _round_robin(spoof, attack_of, take_spoof, rng)
    order = {id(r): i for i, r in enumerate(rows)}
    return sorted(chosen, key=lambda r: order[id(r)])


def _round_robin(
    rows: list[ManifestRow], key: Callable[[ManifestRow], str], count: int, rng: random.Random
) -> list[ManifestRow]:
    groups: dict[str, list[ManifestRow]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    queues = [groups[name] for name in sorted(groups)]
    rng.shuffle(queues)
    for queue in queues:
        rng.shuffle(queue)
    chosen: list[ManifestRow] = []
    depth = 0
    while len(chosen) < count:
        for queue in queues:
            if depth < len(queue) and len(chosen) < count:
                chosen.append(queue[depth])
        depth += 1
    return chosen


def channel_audio(
    row: ManifestRow, *, sample_rate: int, config: CmEvalConfig, index: int
) -> npt.NDArray[np.float32]:
    """Load one file and pass it through the configured channel, at sample_rate Hz.

    Packet loss is drawn from a generator seeded by (seed, index), so a file loses the same
    packets in every run and for every countermeasure compared.
    """
    audio = load_audio(row.path)
    if config.channel == "telephony":
        if config.leg_codec is not None:
            narrow = resample(audio.samples, audio.sample_rate, TELEPHONE_RATE)
            audio = Audio(transcode(narrow, config.leg_codec), TELEPHONE_RATE)
        rng = np.random.default_rng([config.seed, index])
        audio = telephone_channel(
            audio, codec=config.codec, packet_loss=config.packet_loss, rng=rng
        )
    samples = resample(audio.samples, audio.sample_rate, sample_rate)
    if config.max_seconds is not None:
        samples = samples[: round(config.max_seconds * sample_rate)]
    if config.net_speech:
        samples = call_speech(samples, sample_rate)
    return samples


def call_speech(samples: npt.NDArray[np.float32], sample_rate: int) -> npt.NDArray[np.float32]:
    """What a call feeds the detector of these samples (8 or 16 kHz): the VAD's net speech
    (the front end every path shares, `audio.frontend`), or the samples whole when it finds
    under MIN_NET_SECONDS."""
    try:
        with single_threaded():
            speech = extract_speech(
                Audio(samples, sample_rate),
                _vad(),
                sample_rate=sample_rate,
                min_speech_s=MIN_NET_SECONDS,
            )
    except InsufficientSpeech:
        return samples
    return speech.samples


@cache
def _vad() -> SileroVad:
    """One VAD for every measurement in the process: the same Silero model, threshold and exit
    rule as the call path's streaming VAD (`audio.vad_stream`), over the whole recording."""
    return SileroVad()


def evaluate_countermeasure(
    rows: Sequence[ManifestRow],
    cm: Countermeasure,
    config: CmEvalConfig,
    *,
    created: str = "",
    progress: Callable[[int], None] | None = None,
) -> CmEvalResult:
    """Score the manifest's files (or a sample) with cm and report EERs; see the module doc."""
    if config.channel not in CHANNELS:
        raise ValueError(f"unknown channel {config.channel!r}; valid: {', '.join(CHANNELS)}")
    if config.leg_codec is not None and config.channel != "telephony":
        raise ValueError("a leg codec is part of the telephony channel, not of wideband")
    if config.net_speech and cm.sample_rate not in VAD_RATES:
        raise ValueError(f"net speech needs a detector at 8 or 16 kHz, not {cm.sample_rate} Hz")
    chosen = (
        list(rows) if config.max_files is None else sample_rows(rows, config.max_files, config.seed)
    )
    scored: list[ScoredFile] = []
    skipped: Counter[str] = Counter()
    wall = cpu = 0.0
    for start in range(0, len(chosen), BATCH_FILES):
        ready: list[tuple[ManifestRow, npt.NDArray[np.float32]]] = []
        for index in range(start, min(start + BATCH_FILES, len(chosen))):
            row = chosen[index]
            try:
                samples = channel_audio(row, sample_rate=cm.sample_rate, config=config, index=index)
            except AudioFormatError as exc:
                skipped[str(exc).split(":")[0]] += 1
                continue
            if len(samples) < cm.min_samples:
                skipped["too short"] += 1
                continue
            ready.append((row, samples))
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        scores = cm.score_batch([samples for _, samples in ready])
        wall += time.perf_counter() - wall_start
        cpu += time.process_time() - cpu_start
        scored.extend(
            ScoredFile(row, score, len(samples) / cm.sample_rate)
            for (row, samples), score in zip(ready, scores, strict=True)
        )
        if progress is not None:
            progress(min(BATCH_FILES, len(chosen) - start))
    report = cm_report(scored)
    audio_s = sum(f.duration_s for f in scored)
    report.update(
        cm=cm.cm_id,
        version=cm.version,
        created=created,
        config=asdict(config),
        n_files=len(chosen),
        n_skipped=sum(skipped.values()),
        skipped_reasons=dict(skipped),
        speed={
            "audio_s": round(audio_s, 2),
            "wall_ms_per_audio_s": round(1000 * wall / audio_s, 1) if audio_s else None,
            "cpu_ms_per_audio_s": round(1000 * cpu / audio_s, 1) if audio_s else None,
        },
    )
    return CmEvalResult(report, scored)


def _eer_percent(bonafide: list[float], spoof: list[float]) -> float | None:
    if not bonafide or not spoof:
        return None
    return round(100.0 * eer(bonafide, spoof), 2)


def operating_points(bonafide: list[float], spoof: list[float]) -> dict[str, float | None]:
    """The issue's two operating points, in %: spoofs accepted (score >= threshold) at the
    highest threshold that accepts at least 90 % of bona fide files, and bona fide accepted
    (score > threshold) at the lowest one that lets at most 1 % of spoofs above it."""
    if not bonafide or not spoof:
        return {"spoof_accept_at_90_bonafide": None, "bonafide_accept_at_1_spoof": None}
    genuine, attacks = np.sort(bonafide), np.sort(spoof)
    accepted = ceil(SPOOF_ACCEPT_AT_BONAFIDE * len(genuine) - 1e-9)
    at_genuine = genuine[len(genuine) - accepted]
    allowed = floor(BONAFIDE_ACCEPT_AT_SPOOF * len(attacks) + 1e-9)
    at_spoof = attacks[len(attacks) - allowed - 1]
    return {
        "spoof_accept_at_90_bonafide": round(100.0 * float(np.mean(attacks >= at_genuine)), 2),
        "bonafide_accept_at_1_spoof": round(100.0 * float(np.mean(genuine > at_spoof)), 2),
    }


def cm_report(scored: Sequence[ScoredFile]) -> dict[str, Any]:
    """EER (%) overall, per attack and per dataset, with the counts behind each."""
    bonafide = [f.score for f in scored if f.row.label == "bonafide"]
    by_attack: dict[str, list[float]] = defaultdict(list)
    by_dataset: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for f in scored:
        if f.row.label == "spoof":
            by_attack[attack_of(f.row)].append(f.score)
        by_dataset[f.row.dataset or "unknown"][f.row.label].append(f.score)
    per_dataset = {
        name: _eer_percent(labels["bonafide"], labels["spoof"])
        for name, labels in sorted(by_dataset.items())
        if labels["bonafide"] and labels["spoof"]
    }
    by_family: dict[str, list[float]] = defaultdict(list)
    for f in scored:
        if f.row.label == "spoof":
            by_family[family_of(f.row)].append(f.score)
    spoof = [s for v in by_attack.values() for s in v]
    return {
        "cm_eer": _eer_percent(bonafide, spoof),
        **operating_points(bonafide, spoof),
        "n_bonafide": len(bonafide),
        "n_spoof": sum(len(v) for v in by_attack.values()),
        "per_attack": {a: _eer_percent(bonafide, s) for a, s in sorted(by_attack.items())},
        "per_attack_n": {a: len(s) for a, s in sorted(by_attack.items())},
        "per_attack_spoof_accept": {
            a: operating_points(bonafide, s)["spoof_accept_at_90_bonafide"]
            for a, s in sorted(by_attack.items())
        },
        "per_family": {a: _eer_percent(bonafide, s) for a, s in sorted(by_family.items())},
        "per_family_spoof_accept": {
            a: operating_points(bonafide, s)["spoof_accept_at_90_bonafide"]
            for a, s in sorted(by_family.items())
        },
        "per_family_n": {a: len(s) for a, s in sorted(by_family.items())},
        "per_dataset": per_dataset,
        "per_dataset_n": {
            name: {"bonafide": len(labels["bonafide"]), "spoof": len(labels["spoof"])}
            for name, labels in sorted(by_dataset.items())
        },
    }
