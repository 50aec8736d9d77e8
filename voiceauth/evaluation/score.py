"""Score a trial list: cosine, AS-norm against the other folds' cohort, calibration by fold.

For the trials of fold k, the AS-norm cohort is every file of the speakers outside fold k, and
the calibration is fitted on the trials outside fold k; nothing is normalised against, or
calibrated on, the speakers it is graded on. Spoofed files are tests only: never in a cohort,
and their trials (`spoof` column) are calibrated, never calibrated on.
"""

from __future__ import annotations

import numpy as np

from voiceauth.embeddings.base import mean_embedding, require_same_embedder
from voiceauth.evaluation.embed import EmbeddedFile
from voiceauth.evaluation.protocol import Trials
from voiceauth.scoring.asnorm import ASNorm, asnorm
from voiceauth.scoring.calibration import calibration_features, fit_calibration
from voiceauth.scoring.cohort import Cohort
from voiceauth.scoring.cosine import l2_normalise

Columns = dict[str, np.ndarray]


def score_trials(
    files: list[EmbeddedFile], trials: Trials, *, use_asnorm: bool = True, top_n: int = 300
) -> Columns:
    """Raw cosine and (optionally) AS-norm scores, with the per-trial calibration features."""
    require_same_embedder(*(f.full.model for f in files))
    tests = l2_normalise(np.stack([f.test.vector for f in files]))
    enrol_embeddings = [mean_embedding([files[i].full for i in e.files]) for e in trials.enrolments]
    enrols = l2_normalise(np.stack([e.vector for e in enrol_embeddings]))
    raw = np.einsum("ij,ij->i", tests[trials.test], enrols[trials.enrol])
    columns: Columns = {
        "test": np.array([files[i].row.key for i in trials.test]),
        "enrol": np.array([trials.enrolments[i].speaker for i in trials.enrol]),
        "target": trials.target.astype(np.int64),
        "spoof": trials.spoof.astype(np.int64),
        "score": raw,
        "test_speech_s": np.array([files[i].test.net_speech_s for i in trials.test]),
        "enrol_speech_s": np.array([enrol_embeddings[i].net_speech_s for i in trials.enrol]),
        "test_snr_db": np.array([files[i].snr_db for i in trials.test]),
        "fold": trials.fold,
    }
    if use_asnorm:
        columns["score_asnorm"] = _asnorm_by_fold(files, trials, tests, enrols, raw, top_n)
    return columns


def _asnorm_by_fold(
    files: list[EmbeddedFile],
    trials: Trials,
    tests: np.ndarray,
    enrols: np.ndarray,
    raw: np.ndarray,
    top_n: int,
) -> np.ndarray:
    file_speakers = np.array([f.row.speaker for f in files])
    bonafide = np.array([f.row.label == "bonafide" for f in files])
    trial_speakers = file_speakers[trials.test]
    normalised = np.empty_like(raw)
    for fold in np.unique(trials.fold):
        in_fold = trials.fold == fold
        fold_speakers = np.unique(trial_speakers[in_fold])
        outside = ~np.isin(file_speakers, fold_speakers) & bonafide
        members = [files[i].full for i in np.flatnonzero(outside)]
        if len(members) < 2:
            raise ValueError(f"fold {fold}: the other folds hold {len(members)} cohort files")
        norm = ASNorm(Cohort.from_embeddings(members), top_n=min(top_n, len(members)))
        test_mean, test_std = norm.stats(tests)
        enrol_mean, enrol_std = norm.stats(enrols)
        t, e = trials.test[in_fold], trials.enrol[in_fold]
        normalised[in_fold] = asnorm(
            raw[in_fold], enrol_mean[e], enrol_std[e], test_mean[t], test_std[t]
        )
    return normalised


def calibrate_by_fold(
    columns: Columns, *, score_column: str, model: str, created: str
) -> np.ndarray:
    """LLRs for every trial from a calibration fitted on the other folds' bona fide trials."""
    features = calibration_features(
        columns[score_column], columns["test_speech_s"], columns["test_snr_db"]
    )
    labels = columns["target"].astype(bool)
    spoof = columns["spoof"].astype(bool)
    llr = np.empty(len(labels))
    folds = np.unique(columns["fold"])
    if len(folds) < 2:
        raise ValueError("calibration needs at least two folds with trials")
    for fold in folds:
        held_out = columns["fold"] == fold
        train = ~held_out & ~spoof
        if labels[train].all() or not labels[train].any():
            raise ValueError(f"fold {fold}: the other folds lack target or non-target trials")
        calibration = fit_calibration(
            {k: v[train] for k, v in features.items()},
            labels[train],
            model=model,
            fitted_on=f"voiceauth eval, folds other than {fold}",
            created=created,
        )
        llr[held_out] = calibration.llr({k: v[held_out] for k, v in features.items()})
    return llr
