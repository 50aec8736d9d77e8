"""Reporting fixtures: the store tests' databases (SQLite and PostgreSQL) and the API client."""

from __future__ import annotations

from api.conftest import client  # noqa: F401  (fixtures re-used from the API tests)
