from pathlib import Path

import numpy as np
import pytest

from voiceauth.errors import ConfigError
from voiceauth.scoring import trials
from voiceauth.scoring.trials import TRIAL_COLUMNS, read_trials_csv, write_trials_csv


def _rows() -> dict[str, np.ndarray]:
    return {
        trials.TEST: np.array(["spk1/a.wav", "spk2/b,c.wav", "spk3/d.wav"]),
        trials.ENROL: np.array(["spk1", "spk1", "spk3"]),
        trials.TARGET: np.array([True, False, True]),
        trials.SCORE: np.array([0.71, 0.1234567890123456789, -0.05]),
        trials.SCORE_ASNORM: np.array([3.2, -0.4, 2.9]),
        trials.LLR: np.array([5.0, -3.5, np.nan]),
        trials.TEST_SPEECH_S: np.array([3.2, 7.5, 12.0]),
        trials.ENROL_SPEECH_S: np.array([20.5, 20.5, 31.0]),
        trials.TEST_SNR_DB: np.array([18.0, 25.5, 9.0]),
        trials.FOLD: np.array([0, 1, 1]),
    }


def test_round_trip_keeps_names_types_and_exact_floats(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    rows = _rows()
    write_trials_csv(path, rows)
    header = path.read_text().splitlines()[0]
    assert header == ",".join(TRIAL_COLUMNS)
    back = read_trials_csv(path)
    assert list(back) == list(TRIAL_COLUMNS)
    assert back[trials.TEST].tolist() == rows[trials.TEST].tolist()
    assert back[trials.TARGET].dtype == np.bool_
    assert back[trials.TARGET].tolist() == [True, False, True]
    assert back[trials.FOLD].dtype == np.int64
    np.testing.assert_array_equal(back[trials.SCORE], rows[trials.SCORE])
    np.testing.assert_array_equal(back[trials.LLR], rows[trials.LLR])  # nan == nan here


def test_a_stage_may_write_a_subset_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    rows = _rows()
    subset = {k: rows[k] for k in (trials.SCORE, trials.TARGET, trials.ENROL, trials.TEST)}
    write_trials_csv(path, subset)
    back = read_trials_csv(path)
    assert list(back) == [trials.TEST, trials.ENROL, trials.TARGET, trials.SCORE]
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['llr'\]"):
        read_trials_csv(path, required=(trials.SCORE, trials.LLR))


def test_write_refuses_unknown_missing_or_ragged_columns(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    rows = _rows()
    with pytest.raises(ConfigError, match=r"unknown column\(s\) \['scroe'\]"):
        write_trials_csv(path, {**rows, "scroe": rows[trials.SCORE]})
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['target'\]"):
        write_trials_csv(path, {k: v for k, v in rows.items() if k != trials.TARGET})
    with pytest.raises(ValueError, match="equal length"):
        write_trials_csv(path, {**rows, trials.SCORE: np.zeros(2)})


def test_read_names_the_bad_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    path.write_text("test,enrol,target,score\na,b,1,0.5\nc,d,yes,0.1\n")
    with pytest.raises(ConfigError, match=r"line 3 column 'target': expected 0 or 1, got 'yes'"):
        read_trials_csv(path)
    path.write_text("test,enrol,target,score\na,b,1,zero\n")
    with pytest.raises(ConfigError, match=r"line 2 column 'score'"):
        read_trials_csv(path)
    path.write_text("test,enrol,target\na,b,1\n")
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['score'\]"):
        read_trials_csv(path)
    path.write_text("test,enrol,target,score\na,b,1\n")
    with pytest.raises(ConfigError, match="line 2: 3 cells, header has 4"):
        read_trials_csv(path)
    path.write_text("")
    with pytest.raises(ConfigError, match="empty file"):
        read_trials_csv(path)


def test_header_only_file_reads_as_empty_columns(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    write_trials_csv(path, {k: np.zeros(0) for k in trials.REQUIRED_COLUMNS})
    back = read_trials_csv(path)
    assert all(v.size == 0 for v in back.values())
    assert back[trials.SCORE].dtype == np.float64
