"""The verification trial protocol of `voiceauth eval`, as pure functions of file metadata.

Every usable bona fide file of a speaker with at least two usable files is a test. Its target
trial compares it with an enrolment made of the speaker's *other* files (leave-one-out), taken in
manifest order while their net speech stays within `enrol_seconds`. Non-target trials compare it
with other speakers' enrolments built the same way; speakers with one file are impostor
enrolments only. Speakers are split into folds by a seeded hash: trials stay inside a fold, so
the cohort and the calibration of one fold can come from the others (never graded on itself).

Spoof trials (spoofing-aware evaluation, as in the SASV challenge): every spoofed file is a test
against the enrolment of the speaker it imitates, made from all of that speaker's bona fide
files, in that speaker's fold. A spoof is neither target nor non-target: it is a third class,
`spoof`, that voice calibration never fits on and the spoofing-aware figures grade.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A usable file: who speaks and how much net speech it holds."""

    key: str
    speaker: str
    speech_s: float


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An enrolment: a speaker and the indices of the files averaged into it."""

    speaker: str
    files: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Trials:
    """Trial list: `test[i]` (file index) against `enrolments[enrol[i]]`.

    File indices count the bona fide files first, then the spoofs (`len(files) + j`).
    """

    test: np.ndarray  # (n,) int
    enrol: np.ndarray  # (n,) int, index into enrolments
    target: np.ndarray  # (n,) bool
    fold: np.ndarray  # (n,) int, the fold of the test speaker
    enrolments: list[Enrolment]
    spoof: np.ndarray  # (n,) bool, a spoof of the enrolled speaker (never a target)


def speaker_fold(speaker: str, n_folds: int, seed: int) -> int:
    """A stable fold for a speaker, independent of manifest order and Python's hash seed."""
    digest = hashlib.sha256(f"{seed}:{speaker}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n_folds


def pick_enrolment(
    candidates: list[int], files: list[FileInfo], enrol_seconds: float
) -> tuple[int, ...]:
    """Files in order while their speech stays within `enrol_seconds` (always at least one)."""
    chosen: list[int] = []
    total = 0.0
    for index in candidates:
        if chosen and total + files[index].speech_s > enrol_seconds:
            break
        chosen.append(index)
        total += files[index].speech_s
    return tuple(chosen)


def build_trials(
    files: list[FileInfo],
    *,
    spoofs: Sequence[FileInfo] = (),
    enrol_seconds: float = 30.0,
    n_folds: int = 2,
    max_nontarget: int | None = None,
    seed: int = 0,
) -> Trials:
    """All target, non-target and spoof trials of the protocol (see the module docstring).

    spoofs: spoofed files, `speaker` being the imitated one; those imitating a speaker without a
    usable bona fide file have no enrolment to attack and get no trial.
    """
    if n_folds < 1:
        raise ValueError("n_folds must be at least 1")
    by_speaker: dict[str, list[int]] = defaultdict(list)
    for index, info in enumerate(files):
        by_speaker[info.speaker].append(index)
    fold_of = {s: speaker_fold(s, n_folds, seed) for s in by_speaker}

    enrolments: list[Enrolment] = []
    speaker_enrolment: dict[str, int] = {}
    for speaker, indices in by_speaker.items():
        speaker_enrolment[speaker] = len(enrolments)
        enrolments.append(Enrolment(speaker, pick_enrolment(indices, files, enrol_seconds)))
    fold_enrolments: dict[int, np.ndarray] = {
        k: np.array([speaker_enrolment[s] for s in by_speaker if fold_of[s] == k], dtype=np.int64)
        for k in range(n_folds)
    }

    rng = np.random.default_rng(seed)
    tests: list[np.ndarray] = []
    enrols: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for speaker, indices in by_speaker.items():
        if len(indices) < 2:
            continue
        fold = fold_of[speaker]
        others = fold_enrolments[fold][fold_enrolments[fold] != speaker_enrolment[speaker]]
        for test in indices:
            rest = [i for i in indices if i != test]
            enrolments.append(Enrolment(speaker, pick_enrolment(rest, files, enrol_seconds)))
            impostors = others
            if max_nontarget is not None and len(others) > max_nontarget:
                impostors = rng.choice(others, size=max_nontarget, replace=False)
            row_enrol = np.concatenate([[len(enrolments) - 1], impostors]).astype(np.int64)
            enrols.append(row_enrol)
            tests.append(np.full(len(row_enrol), test, dtype=np.int64))
            target = np.zeros(len(row_enrol), dtype=bool)
            target[0] = True
            targets.append(target)
    if not tests:
        raise ValueError("no trials: no speaker has two usable files")
    n_bonafide = sum(len(t) for t in tests)
    for offset, spoof in enumerate(spoofs):
        if spoof.speaker in speaker_enrolment:
            tests.append(np.array([len(files) + offset], dtype=np.int64))
            enrols.append(np.array([speaker_enrolment[spoof.speaker]], dtype=np.int64))
            targets.append(np.zeros(1, dtype=bool))
    test_arr = np.concatenate(tests)
    file_fold = np.array(
        [fold_of.get(info.speaker, -1) for info in (*files, *spoofs)], dtype=np.int64
    )
    is_spoof = np.zeros(len(test_arr), dtype=bool)
    is_spoof[n_bonafide:] = True
    return Trials(
        test=test_arr,
        enrol=np.concatenate(enrols),
        target=np.concatenate(targets),
        fold=file_fold[test_arr],
        enrolments=enrolments,
        spoof=is_spoof,
    )
