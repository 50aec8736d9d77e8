"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-speech folder `../shared/data` beside the repository (see its README.md).

    Missing data fails loudly rather than skipping: CI always has it, and a silent skip would
    pass a suite that tested nothing.
    """
    folder = SHARED_DATA.resolve()
    if not folder.is_dir():
        pytest.fail(
            f"shared speech data not found at {folder}: the tests need ../shared/data next to "
            "the repository checkout (real recordings, see its README.md)"
        )
    return folder
