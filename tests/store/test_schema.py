from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from voiceauth.store import current_revision, head_revision, make_engine, upgrade
from voiceauth.store.tables import Base

from .conftest import Database


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
