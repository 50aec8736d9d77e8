"""The published AASIST weights beside the checkout, and detectors loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from voiceauth.liveness.base import Countermeasure, create_countermeasure

AASIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "models" / "aasist"


@pytest.fixture(scope="session")
def aasist_dir() -> Path:
    """../shared/models/aasist; missing weights fail loudly (a skip would test nothing)."""
    folder = AASIST_DIR.resolve()
    if not (folder / "AASIST.pth").is_file():
        pytest.fail(f"AASIST weights not found in {folder} (see ../shared/models/README.md)")
    return folder


@pytest.fixture(scope="session")
def one_thread() -> Iterator[None]:
    """One torch thread: the test machine is shared, and extra threads only contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def aasist_l(aasist_dir: Path, one_thread: None) -> Countermeasure:
    return create_countermeasure("aasist-l", weights_dir=aasist_dir)
