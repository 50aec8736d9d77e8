from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from voiceauth.store import current_revision, head_revision, make_engine, upgrade
from voiceauth.store.tables import Base

from .conftest import Database
from .postgres import PostgresServer

REPLICAS = 4
START_TIMEOUT_S = 60.0
MIGRATE_TIMEOUT_S = 120.0
# One replica's start: import, say it is ready, wait for the starting gun, migrate.
REPLICA = """
import sys, time
from pathlib import Path
from voiceauth.store import upgrade
url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.001)
upgrade(url)
"""


def test_migrations_match_the_tables(database: Database) -> None:
    assert current_revision(database.url) == head_revision()
    upgrade(database.url)  # idempotent
    engine = make_engine(database.url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_template: Path) -> None:
    engine = make_engine(f"sqlite:///{sqlite_template}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("round_number", range(2))
def test_replicas_starting_together_migrate_an_empty_postgres_once(
    postgres: PostgresServer, tmp_path: Path, round_number: int
) -> None:
    # Separate processes, as replicas are; without the migration lock 3 of 4 fail every round.
    name = f"race{round_number}"
    postgres.execute(f"CREATE DATABASE {name}")
    url = postgres.url(name)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(REPLICAS)]
    try:
        replicas = [
            subprocess.Popen(
                [sys.executable, "-c", REPLICA, url, str(flag), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for flag in ready
        ]
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not all(flag.exists() for flag in ready):
                exited = [r for r in replicas if r.poll() is not None]
                if exited or time.monotonic() > deadline:
                    why = exited[0].communicate()[1][-1500:] if exited else "timed out"
                    pytest.fail(f"a replica did not get ready for the race: {why}")
                time.sleep(0.01)
            go.touch()  # every replica is past its imports: they all migrate at once
            errors = [r.communicate(timeout=MIGRATE_TIMEOUT_S)[1] for r in replicas]
        finally:
            for replica in replicas:
                if replica.poll() is None:
                    replica.kill()
                    replica.wait()
        failed = [err[-1500:] for r, err in zip(replicas, errors, strict=True) if r.returncode]
        report = "\n---\n".join(failed)
        assert not failed, f"{len(failed)} of {REPLICAS} replicas failed:\n{report}"
        assert current_revision(url) == head_revision()
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        finally:
            engine.dispose()
        assert [row[0] for row in rows] == [head_revision()]
    finally:
        postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
