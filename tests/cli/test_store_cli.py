"""`voiceauth customers add`, `consent grant`, `enrol`, `keys generate|rotate` end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceauth.cli import app
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
