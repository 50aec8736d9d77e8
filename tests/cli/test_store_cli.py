"""`voiceauth customers add`, `consent grant`, `enrol`, `keys generate|rotate`, `retention run`
and `audit verify` end to end."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voiceauth.cli import app
from voiceauth.embeddings.base import Embedding
from voiceauth.settings import load_settings
from voiceauth.store import Keyring, VoiceprintStore

runner = CliRunner()


def test_store_commands_refuse_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEAUTH_HOME", str(tmp_path))
    result = runner.invoke(app, ["customers", "add", "c-1"])
    assert result.exit_code == 2
    assert "voiceauth keys generate" in result.output
    assert list(tmp_path.iterdir()) == []


def test_add_consent_enrol_rotate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    generated = runner.invoke(app, ["keys", "generate", "--kid", "k1"])
    assert generated.exit_code == 0 and generated.output.startswith("k1:")
    key_file = tmp_path / "keys"
    key_file.write_text(generated.output)
    monkeypatch.setenv("VOICEAUTH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEAUTH_KEY_FILE", str(key_file))
    monkeypatch.setenv("VOICEAUTH_EMBEDDER", "ge2e")
    files = sorted(str(p) for p in (shared_data / "autovc_vctk_samples" / "p225").glob("*.wav"))
    assert runner.invoke(app, ["customers", "add", "c-1", "--phone", "+4930123456"]).exit_code == 0
    refused = runner.invoke(app, ["enrol", "c-1", *files])
    assert refused.exit_code == 2 and "no consent" in refused.output
    granted = runner.invoke(app, ["consent", "grant", "c-1", "--evidence", "form 17"])
    assert granted.exit_code == 0, granted.output
    enrolled = runner.invoke(app, ["enrol", "c-1", *files[:7]])
    assert enrolled.exit_code == 0, enrolled.output
    key_file.write_text(runner.invoke(app, ["keys", "generate", "--kid", "k2"]).output)
    key_file.write_text(key_file.read_text() + generated.output)
    rotated = runner.invoke(app, ["keys", "rotate", "k2"])
    assert rotated.exit_code == 0 and "re-wrapped 1 voiceprints" in rotated.output
    settings = load_settings()
    with VoiceprintStore(settings.database, Keyring.load(key_file)) as store:
        [info] = store.voiceprints("c-1")
        assert info.key_id == "k2" and info.net_speech_s >= 20.0


def test_store_settings() -> None:
    settings = load_settings({"VOICEAUTH_HOME": "/srv/va", "VOICEAUTH_KEYS": "k1:c2VjcmV0"})
    assert settings.database == "sqlite:////srv/va/voiceauth.db"
    assert "c2VjcmV0" not in repr(settings)
    url = "postgresql+psycopg://va@db/va"
    assert load_settings({"VOICEAUTH_DATABASE_URL": url}).database == url


def test_audit_verify_and_retention_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(runner.invoke(app, ["keys", "generate"]).output)
    home = tmp_path / "home"
    monkeypatch.setenv("VOICEAUTH_HOME", str(home))
    monkeypatch.setenv("VOICEAUTH_KEY_FILE", str(key_file))
    assert runner.invoke(app, ["customers", "add", "c-1"]).exit_code == 0
    assert runner.invoke(app, ["consent", "grant", "c-1", "--evidence", "form 9"]).exit_code == 0
    settings = load_settings()
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with VoiceprintStore(settings.database, Keyring.load(key_file), clock=lambda: long_ago) as db:
        vector = np.random.default_rng(0).standard_normal(192).astype(np.float32)
        db.save_voiceprint("c-1", Embedding("ge2e", "1", vector, 21.0), actor="test")
    retained = runner.invoke(app, ["retention", "run", "--days", "365"])
    assert retained.exit_code == 0 and "deleted 1 voiceprints unused since" in retained.output
    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0 and "audit chain intact: 5 entries" in intact.output
    assert json.loads((home / "audit-anchor.json").read_text())["seq"] == 5
    with sqlite3.connect(home / "voiceauth.db") as conn:  # a restore from an older backup
        conn.execute("DELETE FROM audit_log WHERE seq > 3")
    cut = runner.invoke(app, ["audit", "verify"])
    assert cut.exit_code == 2 and "the log ends at entry 3 but entry 5" in cut.output
    accepted = runner.invoke(app, ["audit", "verify", "--re-anchor"])
    assert accepted.exit_code == 0 and "audit chain intact: 4 entries" in accepted.output
