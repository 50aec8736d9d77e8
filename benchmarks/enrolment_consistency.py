"""Where to put the enrolment consistency threshold: same-talker vs second-talker window cosines.

The enrolment gate (`voiceauth.enrolment.gates`) cuts the enrolment's net speech into windows
of `--window` seconds, embeds each, and rejects when a window's cosine with the mean of the
other windows is below the threshold. This prints that leave-one-out cosine for three cases on
the real speech in ../shared/data (VAD speech, GE2E):

- genuine: the lowest window of a one-talker enrolment of about 20 s (`--windows` windows);
- intruder: the window of a second talker among the windows of the first;
- half/half: the lowest window when two talkers share the windows evenly;
- and, for genuine and half/half sets, `two_group_cosine` (the two-group split).

A threshold between the genuine set's low tail and the intruders' high tail is the choice;
figures, not assertions.

    python benchmarks/enrolment_consistency.py [--window 3] [--windows 7] [--seed 0]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import load_audio
from voiceauth.audio.vad import SileroVad
from voiceauth.data.manifest import read_manifest
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.enrolment.gates import leave_one_out_cosines, speech_windows, two_group_cosine

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SETS = ("autovc_vctk_samples", "resemblyzer_librispeech", "yourtts_zeroshot_clones")


def speaker_windows(window_s: float) -> dict[str, np.ndarray]:
    """GE2E embeddings (k, 256) of each bona fide speaker's windows of net speech."""
    vad, embedder = SileroVad(), Ge2eEmbedder()
    speech: dict[str, list[np.ndarray]] = defaultdict(list)
    for row in read_manifest(DATA / "manifest.csv"):
        if row.dataset in SETS and row.label == "bonafide":
            audio = load_audio(row.path)
            cut = extract_speech(audio, vad, sample_rate=16_000, min_speech_s=0.0)
            speech[row.speaker].append(cut.samples)
    out = {}
    for speaker, pieces in speech.items():
        windows = speech_windows(pieces, window=int(window_s * 16_000))
        if len(windows) >= 2:
            out[speaker] = np.stack([e.vector for e in embedder.embed_batch(windows)])
    return out


def describe(name: str, values: list[float]) -> None:
    arr = np.asarray(values)
    pct = np.percentile(arr, [0, 1, 5, 50, 95, 99, 100])
    cells = " ".join(f"{p:.3f}" for p in pct)
    print(f"{name:<10} n={arr.size:<5} min/1/5/50/95/99/max %: {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=3.0)
    parser.add_argument("--windows", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    embedded = speaker_windows(args.window)
    speakers = sorted(embedded)
    genuine, intruder, half = [], [], []
    split_genuine, split_half = [], []
    for speaker in speakers:
        own = embedded[speaker]
        take = min(args.windows, len(own))
        for _ in range(5):
            chosen = own[rng.choice(len(own), take, replace=False)]
            genuine.append(float(leave_one_out_cosines(chosen).min()))
            split_genuine.append(two_group_cosine(chosen))
            other = embedded[speakers[rng.integers(len(speakers))]]
            if other is own:
                continue
            mixed = np.vstack([chosen[: take - 1], other[rng.integers(len(other))][None]])
            intruder.append(float(leave_one_out_cosines(mixed)[-1]))
            n = min(take // 2, len(other))
            split = np.vstack([chosen[: take - n], other[:n]])
            half.append(float(leave_one_out_cosines(split).min()))
            split_half.append(two_group_cosine(split))
    print(f"{len(speakers)} speakers, {args.window:.1f} s windows, up to {args.windows} per set")
    describe("genuine", genuine)
    describe("intruder", intruder)
    describe("half/half", half)
    print("cosine between the means of the two groups the windows split into:")
    describe("genuine", split_genuine)
    describe("half/half", split_half)


if __name__ == "__main__":
    main()
