"""Engines for the two supported backends: SQLite (default, one file) and PostgreSQL.

SQLite gets write-ahead logging (readers never block the writer, and a killed process leaves
the database intact: the WAL is replayed or discarded whole), foreign keys (off by default in
SQLite, and the erasure cascade relies on them) and `BEGIN IMMEDIATE` transactions, so that two
writers serialise at the start of a transaction rather than failing half-way when both try to
append to the audit chain. PostgreSQL is reached through psycopg 3 (`postgresql+psycopg://`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from voiceauth.errors import ConfigError

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another one's lock before giving up."""
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url` (`sqlite:///path.db` or `postgresql+psycopg://...`)."""
    parsed = make_url(url)
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise ConfigError(
            f"unsupported database URL driver {parsed.drivername!r}: use one of "
            f"{', '.join(SUPPORTED_DRIVERS)}"
        )
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError(
                "the store needs a SQLite file (sqlite:///path/to/voiceauth.db): an in-memory "
                "database would lose every consent and voiceprint when the process exits"
            )
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and immediate transactions on every new SQLite connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so that "begin" below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # FULL: a commit the caller was told about (a consent, an erasure) survives power loss.
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
