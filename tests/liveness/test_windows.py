"""The window policy: repeat short input, cover long input, every sample seen."""

from __future__ import annotations

import numpy as np

from voiceauth.liveness.windows import cut_windows, repeat_to, window_starts


def test_window_starts_cover_the_input_with_an_end_aligned_last_window() -> None:
    assert window_starts(5, 10) == [0]
    assert window_starts(10, 10) == [0]
    assert window_starts(20, 10) == [0, 10]
    assert window_starts(25, 10) == [0, 10, 15]


def test_short_input_is_tiled_not_zero_padded() -> None:
    samples = np.array([1, 2, 3], dtype=np.float32)
    assert repeat_to(samples, 7).tolist() == [1, 2, 3, 1, 2, 3, 1]
    windows = cut_windows(samples, 7)
    assert windows.shape == (1, 7) and windows.dtype == np.float32


def test_long_input_becomes_windows_of_exact_length() -> None:
    samples = np.arange(25, dtype=np.float32)
    windows = cut_windows(samples, 10)
    assert windows.shape == (3, 10)
    assert windows[2].tolist() == list(range(15, 25))
    assert set(np.unique(windows)) == set(range(25))
