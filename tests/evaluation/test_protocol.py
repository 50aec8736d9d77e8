import numpy as np
import pytest

from voiceauth.evaluation.protocol import FileInfo, build_trials, pick_enrolment, speaker_fold


def files_of(spec: dict[str, list[float]]) -> list[FileInfo]:
    return [
        FileInfo(f"{speaker}/{i}", speaker, seconds)
        for speaker, durations in spec.items()
        for i, seconds in enumerate(durations)
    ]


def test_enrolment_stays_within_budget_but_keeps_one_file() -> None:
    files = files_of({"a": [10.0, 15.0, 10.0, 40.0]})
    assert pick_enrolment([0, 1, 2, 3], files, 30.0) == (0, 1)
    assert pick_enrolment([3, 0], files, 30.0) == (3,)


def test_one_fold_trials_are_leave_one_out_targets_and_all_impostors() -> None:
    files = files_of({"a": [5, 5, 5], "b": [5, 5], "c": [5]})
    trials = build_trials(files, n_folds=1)
    # tests: 3 of a + 2 of b; each has 1 target and (speakers - 1) non-targets
    assert trials.target.sum() == 5
    assert (~trials.target).sum() == 5 * 2
    for test, enrol, target in zip(trials.test, trials.enrol, trials.target, strict=True):
        enrolment = trials.enrolments[enrol]
        assert test not in enrolment.files
        assert (enrolment.speaker == files[test].speaker) == target
    assert not any(files[t].speaker == "c" for t in trials.test)


def test_trials_never_cross_folds() -> None:
    files = files_of({f"s{i}": [4.0, 4.0] for i in range(12)})
    trials = build_trials(files, n_folds=2, seed=3)
    folds = {f.speaker: speaker_fold(f.speaker, 2, 3) for f in files}
    assert set(folds.values()) == {0, 1}
    for test, enrol, fold in zip(trials.test, trials.enrol, trials.fold, strict=True):
        assert folds[files[test].speaker] == fold
        assert folds[trials.enrolments[enrol].speaker] == fold


def test_max_nontarget_samples_a_seeded_subset() -> None:
    files = files_of({f"s{i}": [4.0, 4.0] for i in range(20)})
    first = build_trials(files, n_folds=1, max_nontarget=5, seed=1)
    again = build_trials(files, n_folds=1, max_nontarget=5, seed=1)
    assert (~first.target).sum() == 40 * 5
    np.testing.assert_array_equal(first.enrol, again.enrol)


def test_no_multi_file_speaker_is_an_error() -> None:
    with pytest.raises(ValueError, match="no trials"):
        build_trials(files_of({"a": [3.0], "b": [3.0]}))
