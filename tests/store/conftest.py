"""Store fixtures: every store test runs on SQLite (a temp file) and on a real PostgreSQL.

The schema is migrated once per backend into a template (a file for SQLite, a template
database for PostgreSQL) and copied for each test, so each test starts from a fresh database
without paying for the migrations again.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from voiceauth.store import Keyring, VoiceprintStore, upgrade

from .helpers import KEY1, FakeClock
from .postgres import PostgresServer, PostgresUnavailable, start_server

BACKENDS = ["sqlite", "postgresql"]
TEMPLATE_DB = "voiceauth_template"


@dataclass
class Database:
    """A fresh, migrated database for one test."""

    backend: str
    url: str
    sqlite_path: Path | None
    server: PostgresServer | None
    name: str


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server with a migrated template database.

    A missing PostgreSQL fails the tests rather than skipping them: a skip would let CI pass
    without ever testing the production backend.
    """
    try:
        server = start_server()
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        server.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        upgrade(server.url(TEMPLATE_DB))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


_numbers = itertools.count()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "voiceauth.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield Database("sqlite", f"sqlite:///{path}", path, None, path.name)
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t{next(_numbers)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    try:
        yield Database("postgresql", server.url(name), None, server, name)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def keyring() -> Keyring:
    return Keyring({"k1": KEY1}, "k1")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(database: Database, keyring: Keyring, clock: FakeClock) -> Iterator[VoiceprintStore]:
    with VoiceprintStore(database.url, keyring, clock=clock) as opened:
        yield opened
