"""The trial-score record shared by the evaluator, the recipes and the notebooks.

One row per trial (test sample against an enrolment), columns addressed by name, never by
position, so that a stage can add a column (AS-norm score, LLR) without breaking readers.
Stored as CSV with a header: readable by the stdlib csv module here and by pandas in notebooks.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from voiceauth.errors import ConfigError

TEST = "test"  # test sample id
ENROL = "enrol"  # enrolment (voiceprint) id
TARGET = "target"  # True when test and enrolment are the same speaker
SCORE = "score"  # raw cosine
SCORE_ASNORM = "score_asnorm"  # AS-norm of score
LLR = "llr"  # calibrated natural-log LLR
TEST_SPEECH_S = "test_speech_s"  # net speech of the test sample, seconds
ENROL_SPEECH_S = "enrol_speech_s"  # net speech of the enrolment, seconds
TEST_SNR_DB = "test_snr_db"  # estimated SNR of the test sample, dB
FOLD = "fold"  # cross-validation fold (calibrate on one fold, evaluate on another)

# fmt: off
TRIAL_COLUMNS = (
    TEST, ENROL, TARGET, SCORE, SCORE_ASNORM, LLR,
    TEST_SPEECH_S, ENROL_SPEECH_S, TEST_SNR_DB, FOLD,
)
# fmt: on
# Every trial file has these; the others are added by later stages.
REQUIRED_COLUMNS = (TEST, ENROL, TARGET, SCORE)

ColumnKind = Literal["str", "bool", "int", "float"]
COLUMN_KINDS: dict[str, ColumnKind] = {
    TEST: "str",
    ENROL: "str",
    TARGET: "bool",
    SCORE: "float",
    SCORE_ASNORM: "float",
    LLR: "float",
    TEST_SPEECH_S: "float",
    ENROL_SPEECH_S: "float",
    TEST_SNR_DB: "float",
    FOLD: "int",
}


def _check_names(where: str, names: Sequence[str], required: Sequence[str]) -> None:
    unknown = [n for n in names if n not in COLUMN_KINDS]
    if unknown:
        raise ConfigError(f"{where}: unknown column(s) {unknown}; known: {list(TRIAL_COLUMNS)}")
    missing = [n for n in required if n not in names]
    if missing:
        raise ConfigError(f"{where}: missing column(s) {missing}")


def _format(kind: ColumnKind, value: Any) -> str:
    if kind == "bool":
        return "1" if bool(value) else "0"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return repr(float(value))
    return str(value)


def write_trials_csv(
    path: str | os.PathLike[str],
    rows: Mapping[str, npt.ArrayLike],
    *,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> None:
    """Write trial columns (equal-length 1-D arrays, keyed by name) to a CSV file.

    Columns come out in TRIAL_COLUMNS order; an unknown or missing required name raises
    ConfigError. Floats are written with repr, so they read back exactly (nan allowed).
    """
    where = f"trials file {os.fspath(path)!r}"
    _check_names(where, list(rows), required)
    names = [n for n in TRIAL_COLUMNS if n in rows]
    columns = {n: np.asarray(rows[n]) for n in names}
    lengths = {n: c.shape for n, c in columns.items()}
    if any(c.ndim != 1 for c in columns.values()) or len({c.size for c in columns.values()}) > 1:
        raise ValueError(f"{where}: columns must be 1-D of equal length, got {lengths}")
    if TARGET in columns:
        target = columns[TARGET]
        if not np.all((target == 0) | (target == 1)):
            raise ValueError(f"{where}: column {TARGET!r} must be boolean or 0/1")
    n_rows = columns[names[0]].size if names else 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for i in range(n_rows):
            writer.writerow([_format(COLUMN_KINDS[n], columns[n][i]) for n in names])


def _parse(kind: ColumnKind, text: str) -> object:
    if kind == "bool":
        if text not in ("0", "1"):
            raise ValueError(f"expected 0 or 1, got {text!r}")
        return text == "1"
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    return text


_DTYPES: dict[ColumnKind, type] = {"str": str, "bool": bool, "int": np.int64, "float": np.float64}


def read_trials_csv(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> dict[str, npt.NDArray[Any]]:
    """Read a trials CSV into {column name: 1-D array}: str, bool, int64 or float64 by column.

    A missing required column, an unknown column or an unparsable cell raises ConfigError
    naming the file, line and column.
    """
    where = f"trials file {os.fspath(path)!r}"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ConfigError(f"{where}: empty file, no header")
        if len(set(header)) != len(header):
            raise ConfigError(f"{where}: duplicate column names in header {header}")
        _check_names(where, header, required)
        kinds = [COLUMN_KINDS[n] for n in header]
        values: list[list[object]] = [[] for _ in header]
        for row in reader:
            line = reader.line_num
            if len(row) != len(header):
                raise ConfigError(
                    f"{where} line {line}: {len(row)} cells, header has {len(header)}"
                )
            for j, text in enumerate(row):
                try:
                    values[j].append(_parse(kinds[j], text))
                except ValueError as exc:
                    raise ConfigError(f"{where} line {line} column {header[j]!r}: {exc}") from exc
    return {
        name: np.array(col, dtype=_DTYPES[kind]) if col else np.zeros(0, dtype=_DTYPES[kind])
        for name, kind, col in zip(header, kinds, values, strict=True)
    }
