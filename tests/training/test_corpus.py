"""Speaker selection, speaker lists, loading net speech once, and balanced random crops."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from voiceauth.audio.vad import SileroVad
from voiceauth.data.manifest import ManifestRow, read_manifest
from voiceauth.errors import ConfigError
from voiceauth.training.corpus import (
    Corpus,
    SpeakerSpeech,
    load_corpus,
    read_speaker_list,
    split_speakers,
)
from voiceauth.training.crops import CropSampler


def rows_of(speakers: dict[str, int], label: str = "bonafide") -> list[ManifestRow]:
    return [
        ManifestRow(path=Path(f"/x/{s}_{i}.wav"), speaker=s, label=label)
        for s, count in speakers.items()
        for i in range(count)
    ]


def test_split_holds_out_excluded_and_validation_speakers() -> None:
    rows = rows_of({f"s{i:02d}": 2 for i in range(20)}) + rows_of({"spoofed": 3}, "spoof")
    split = split_speakers(
        rows, exclude={"s00", "s01"}, val_fraction=0.25, max_speakers=None, seed=3
    )
    assert "spoofed" not in split.train + split.held_out
    assert {"s00", "s01"} <= set(split.held_out)
    assert len(split.held_out) == 2 + round(0.25 * 18)
    assert not set(split.train) & set(split.held_out)
    assert len(split.train) + len(split.held_out) == 20
    again = split_speakers(
        rows, exclude={"s00", "s01"}, val_fraction=0.25, max_speakers=None, seed=3
    )
    assert again == split


def test_split_caps_speakers_and_needs_two() -> None:
    rows = rows_of({f"s{i}": 1 for i in range(10)})
    split = split_speakers(rows, exclude=set(), val_fraction=0.0, max_speakers=4, seed=0)
    assert len(split.train) == 4
    with pytest.raises(ConfigError, match="need at least 2 training speakers, got 1"):
        split_speakers(
            rows_of({"a": 1, "b": 1}), exclude={"a"}, val_fraction=0.0, max_speakers=None, seed=0
        )


def test_speaker_list_ignores_comments_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "held.txt"
    path.write_text("# held out for evaluation\nLS103\n\n  VCTKp225  # twice\nVCTKp225\n")
    assert read_speaker_list(path) == {"LS103", "VCTKp225"}
    with pytest.raises(ConfigError, match="speaker list not found"):
        read_speaker_list(tmp_path / "missing.txt")


def test_load_corpus_keeps_net_speech_and_skips_broken_files(
    tmp_path: Path, shared_data: Path
) -> None:
    rows = [r for r in read_manifest(shared_data / "manifest.csv") if r.dataset == "fsdd"]
    george = [r for r in rows if r.speaker == "FSDDgeorge"][:6]
    jackson = [r for r in rows if r.speaker == "FSDDjackson"][:6]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF0000WAVE")
    chosen = [*george, *jackson, ManifestRow(path=broken, speaker="FSDDjackson", label="bonafide")]
    seen: list[tuple[int, int]] = []
    corpus = load_corpus(
        chosen,
        ("FSDDgeorge", "FSDDjackson", "nobody"),
        SileroVad(),
        min_speech_s=0.5,
        on_file=lambda done, total: seen.append((done, total)),
    )
    assert corpus.labels == ("FSDDgeorge", "FSDDjackson")
    assert corpus.dropped_speakers == ("nobody",)
    assert corpus.skipped_files >= 1
    assert seen[-1] == (13, 13)
    assert corpus.sample_rate == 16000
    # 8 kHz digits come out at 16 kHz, without the silence around them
    assert 0.5 < corpus.seconds < sum(0.8 for _ in range(12))


def tiny_corpus() -> Corpus:
    speakers = (
        SpeakerSpeech("long", np.arange(1000, dtype=np.float32), 3),
        SpeakerSpeech("short", np.arange(30, dtype=np.float32), 1),
    )
    return Corpus(speakers, 16000, 0, ())


def test_crops_are_balanced_over_speakers_and_reproducible() -> None:
    corpus = tiny_corpus()
    sampler = CropSampler(corpus, 100, np.random.default_rng(0))
    counts: Counter[int] = Counter()
    for _ in range(200):
        batch = sampler.batch(2)
        assert sorted(batch.labels.tolist()) == [0, 1]  # distinct speakers while possible
        counts.update(batch.labels.tolist())
        assert all(crop.shape == (100,) for crop in batch.crops)
    assert counts[0] == counts[1]
    first = CropSampler(corpus, 100, np.random.default_rng(7)).batch(5)
    second = CropSampler(corpus, 100, np.random.default_rng(7)).batch(5)
    assert first.labels.tolist() == second.labels.tolist()
    for one, other in zip(first.crops, second.crops, strict=True):
        np.testing.assert_array_equal(one, other)


def test_short_speech_is_repeated_to_fill_a_crop() -> None:
    sampler = CropSampler(tiny_corpus(), 100, np.random.default_rng(1))
    crop = sampler.crop(1)
    assert crop.shape == (100,)
    assert set(crop.tolist()) == set(range(30))
    long = sampler.crop(0)
    assert np.all(np.diff(long) == 1)  # one contiguous piece


def test_held_out_list_names_every_alias_of_its_people(shared_data: Path) -> None:
    """The evaluation split: no held-out person may train under another spelling of their id."""
    import re

    held = read_speaker_list(Path(__file__).with_name("held_out_speakers.txt"))
    rows = read_manifest(shared_data / "manifest.csv")
    speakers = {r.speaker for r in rows if r.label == "bonafide"}  # training reads only these
    assert held <= speakers

    def person(name: str) -> str:
        match = re.fullmatch(r"(?:VCTK|vctk_)(p\d+)|(?:LTTS|libri_|LS)(\d+)", name)
        return (match.group(1) or match.group(2)) if match else name

    held_people = {person(name) for name in held}
    assert {name for name in speakers if person(name) in held_people} == held
    assert len(held_people) == 56
