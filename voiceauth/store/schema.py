"""Create or upgrade the store's schema with the Alembic migrations shipped in the package.

Run at service start and by `voiceauth` admin commands: migrations live beside the code that
needs them (`voiceauth/store/migrations/`), so a deployment can never run code against a schema
it does not know. `upgrade` is idempotent.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from voiceauth.errors import StoreError
from voiceauth.store.engine import make_engine

MIGRATIONS = "voiceauth.store:migrations"


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
    """Bring the database at `engine_url` to `revision` (default: the newest)."""
    engine = make_engine(engine_url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def current_revision(engine_url: str) -> str | None:
    """The revision the database at `engine_url` is at (None before the first upgrade)."""
    engine = make_engine(engine_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
