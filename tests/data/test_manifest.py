from pathlib import Path

import pytest

from voiceauth.data.manifest import read_manifest, write_manifest
from voiceauth.errors import ConfigError


def test_shared_manifest_resolves_paths(shared_data: Path) -> None:
    rows = read_manifest(shared_data / "manifest.csv")
    assert len(rows) > 5000
    assert {r.label for r in rows} == {"bonafide", "spoof"}
    assert all(r.path.is_absolute() for r in rows)
    assert rows[0].path.is_file()


def test_round_trip_with_relative_paths(tmp_path: Path, shared_data: Path) -> None:
    rows = read_manifest(shared_data / "manifest.csv")[:3]
    out = tmp_path / "sub" / "m.csv"
    out.parent.mkdir()
    write_manifest(out, rows)
    assert "../" in out.read_text()
    again = read_manifest(out)
    assert [r.path.resolve() for r in again] == [r.path.resolve() for r in rows]
    assert [r.speaker for r in again] == [r.speaker for r in rows]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("path,speaker\na.wav,s\n", "missing column"),
        ("path,speaker,label\na.wav,s,fake\n", "line 2: label 'fake'"),
        ("path,speaker,label\n,s,bonafide\n", "empty path or speaker"),
    ],
)
def test_bad_manifests_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_manifest(bad)


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="manifest not found"):
        read_manifest(tmp_path / "none.csv")
