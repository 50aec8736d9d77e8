"""Alembic environment: always run programmatically by `voiceauth.store.schema.upgrade`.

The connection comes in through `config.attributes["connection"]`; there is no alembic.ini
and no offline (SQL script) mode, so a deployment cannot migrate with a URL other than the one
the service is configured with.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from voiceauth.errors import ConfigError
from voiceauth.store.tables import Base


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise ConfigError("voiceauth migrations run only through voiceauth.store.schema.upgrade")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
