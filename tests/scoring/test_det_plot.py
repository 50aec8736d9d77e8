from pathlib import Path

import numpy as np
import pytest

from voiceauth.scoring.det_plot import plot_det
from voiceauth.scoring.metrics import det_curve, eer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_plot_det_writes_a_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    curves = {}
    eers = {}
    for name, shift in (("raw", 2.0), ("as-norm", 2.5)):
        tar, non = rng.normal(shift, 1, 500), rng.normal(0, 1, 2000)
        fmr, fnmr, _ = det_curve(tar, non)
        curves[name] = (fmr, fnmr)
        eers[name] = eer(tar, non)
    path = tmp_path / "det.png"
    plot_det(curves, path, title="synthetic", eers=eers)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 5000


def test_plot_det_without_eer_and_with_exact_zero_rates(tmp_path: Path) -> None:
    path = tmp_path / "det.png"
    plot_det({"perfect": ([1.0, 0.0, 0.0], [0.0, 0.0, 1.0])}, path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_det_refuses_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "det.png"
    with pytest.raises(ValueError, match="no curves"):
        plot_det({}, path)
    with pytest.raises(ValueError, match=r"curve 'a' needs equal-length"):
        plot_det({"a": ([0.1, 0.2], [0.3])}, path)
    with pytest.raises(ValueError, match=r"EER given for unknown curve\(s\) \['b'\]"):
        plot_det({"a": ([0.1], [0.2])}, path, eers={"b": 0.1})
    with pytest.raises(ValueError, match="limits"):
        plot_det({"a": ([0.1], [0.2])}, path, limits=(0.0, 0.5))
    assert not path.exists()
