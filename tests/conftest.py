"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from store.conftest import (  # noqa: F401  (a real store, SQLite and PostgreSQL, for every folder)
    clock,
    database,
    keyring,
    postgres,
    sqlite_template,
    store,
)

from voiceauth.audio.vad import SileroVad
from voiceauth.data.manifest import ManifestRow, read_manifest
from voiceauth.embeddings.ge2e import Ge2eEmbedder

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


@pytest.fixture(scope="session")
def shared_rows(shared_data: Path) -> list[ManifestRow]:
    """Every row of ../shared/data/manifest.csv, paths resolved."""
    return read_manifest(shared_data / "manifest.csv")


@pytest.fixture(scope="session")
def vad() -> Iterator[SileroVad]:
    """One Silero VAD for the session, single-threaded: on a shared 2-core machine extra
    intra-op threads make this small recurrent model tens of times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield SileroVad()
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def ge2e() -> Ge2eEmbedder:
    """The offline GE2E embedder, loaded once."""
    return Ge2eEmbedder()
