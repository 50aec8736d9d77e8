"""Call outcomes in the store, on SQLite and PostgreSQL: round trip, replacement, period,
retention, and migration 0003 onto a database already at 0002."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from store.conftest import BACKENDS
from store.helpers import FakeClock, enrolled_customer
from store.postgres import PostgresServer

from voiceauth.errors import InvalidRecord
from voiceauth.store import Keyring, VoiceprintStore, current_revision, upgrade

from .helpers import DAY1, DAY2, sample_outcomes

_numbers = itertools.count()


def test_round_trip_in_start_order(store: VoiceprintStore) -> None:
    calls = sample_outcomes()
    for outcome in reversed(calls):
        store.record_outcome(outcome)
    assert store.outcomes() == calls
    kept = store.outcomes()[3]
    assert kept.factors_verified == ("pin",) and kept.started_at.tzinfo == UTC
    assert store.outcomes()[6].dnis is None


def test_a_second_record_of_a_call_replaces_the_first(store: VoiceprintStore) -> None:
    first = sample_outcomes()[1]
    store.record_outcome(first)
    later = dataclasses.replace(first, level=2, verified_after_s=41.5, end_reason="shutdown")
    store.record_outcome(later)
    assert store.outcomes() == [later]


def test_outcomes_of_a_period(store: VoiceprintStore) -> None:
    for outcome in sample_outcomes():
        store.record_outcome(outcome)
    assert [o.call_id for o in store.outcomes(since=DAY2)] == ["c5", "c6", "c7", "c8"]
    assert [o.call_id for o in store.outcomes(until=DAY1 + timedelta(minutes=2))] == ["c1", "c2"]
    berlin = datetime(2026, 1, 5, 10, 1, tzinfo=timezone(timedelta(hours=1)))  # c2's start
    assert [o.call_id for o in store.outcomes(berlin, DAY2)] == ["c2", "c3", "c4"]


def test_an_overlong_field_is_refused_on_every_backend(store: VoiceprintStore) -> None:
    too_long = dataclasses.replace(sample_outcomes()[0], call_id="x" * 129)
    with pytest.raises(InvalidRecord, match="call outcome call_id: 129 characters, need 1..128"):
        store.record_outcome(too_long)
    assert store.outcomes() == []


def test_retention_deletes_outcomes_older_than_its_period(
    store: VoiceprintStore, clock: FakeClock
) -> None:
    enrolled_customer(store)
    for outcome in sample_outcomes():
        store.record_outcome(outcome)
    clock.now = DAY1 + timedelta(days=30)
    report = store.run_retention(unused_days=30, actor="system:retention")
    assert report.call_outcomes_deleted == 0  # c1 started at the cut-off itself: kept
    clock.now = DAY2 + timedelta(days=30)
    report = store.run_retention(unused_days=30, actor="system:retention")
    assert report.call_outcomes_deleted == 4
    assert [o.call_id for o in store.outcomes()] == ["c5", "c6", "c7", "c8"]
    run = store.audit_entries()[-1]
    assert (run.action, run.details["call_outcomes_deleted"]) == ("retention.run", 4)


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"old{next(_numbers)}"
    server.execute(f"CREATE DATABASE {name}")
    try:
        yield server.url(name)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migration_0003_onto_a_database_at_0002(empty_database: str, keyring: Keyring) -> None:
    upgrade(empty_database, "0002_factors")
    with VoiceprintStore(empty_database, keyring, clock=FakeClock()) as old:
        customer = enrolled_customer(old)
    upgrade(empty_database)
    assert current_revision(empty_database) == "0003_call_outcomes"
    with VoiceprintStore(empty_database, keyring, clock=FakeClock()) as store:
        assert store.get_customer(customer).id == customer
        assert len(store.voiceprints(customer)) == 1
        assert store.outcomes() == []
        store.record_outcome(sample_outcomes()[0])
        assert store.outcomes() == sample_outcomes()[:1]
