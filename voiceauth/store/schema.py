"""Create or upgrade the store's schema with the Alembic migrations shipped in the package.

Run at service start and by `voiceauth` admin commands: migrations live beside the code that
needs them (`voiceauth/store/migrations/`), so a deployment can never run code against a schema
it does not know. `upgrade` is idempotent, and safe to run from several replicas at once.
"""

from __future__ import annotations

from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from voiceauth.errors import StoreError
from voiceauth.store.engine import make_engine

MIGRATIONS = "voiceauth.store:migrations"
MIGRATION_LOCK_KEY = 0x766F_6963_6561_7574
"""The PostgreSQL advisory lock key that serialises migrations ("voiceaut" in ASCII, a bigint)."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StoreError("voiceauth.store.migrations has no revision: the package is incomplete")
    return head


def upgrade(engine_url: str, revision: str = "head") -> None:
    """Bring the database at `engine_url` to `revision` (default: the newest).

    Replicas starting together against an empty PostgreSQL would otherwise all create the
    schema and all but one fail (duplicate table, duplicate `alembic_version` row). A session
    advisory lock makes them take turns: each next one waits, then finds the schema at
    `revision` and does nothing. The lock is released only after the migration has committed,
    so the next replica sees it. SQLite needs none: its `BEGIN IMMEDIATE` makes writers take turns.
    """
    engine = make_engine(engine_url)
    try:
        with engine.connect() as connection:
            locking = connection.dialect.name == "postgresql"
            if locking:
                _advisory(connection, "pg_advisory_lock")
            try:
                with connection.begin():
                    config = _config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
            finally:
                if locking:
                    _advisory(connection, "pg_advisory_unlock")
    finally:
        engine.dispose()


def _advisory(
    connection: Connection, function: Literal["pg_advisory_lock", "pg_advisory_unlock"]
) -> None:
    """Take or release the migration lock, outside any transaction that would outlive it."""
    connection.execute(text(f"SELECT {function}(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()


def current_revision(engine_url: str) -> str | None:
    """The revision the database at `engine_url` is at (None before the first upgrade)."""
    engine = make_engine(engine_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
