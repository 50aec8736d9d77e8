"""Read the speech manifests that evaluation and training share.

A manifest is a CSV with at least `path`, `speaker` and `label` (`bonafide` | `spoof`); the
other columns of `../shared/data/manifest.csv` (`dataset`, `attack`, ...) are kept when present.
Paths are relative to the manifest's folder, so a manifest travels with its audio.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voiceauth.errors import ConfigError

REQUIRED_COLUMNS = ("path", "speaker", "label")
LABELS = ("bonafide", "spoof")


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One audio file of a manifest; `path` is absolute."""

    path: Path
    speaker: str
    label: str
    dataset: str = ""
    attack: str = ""

    @property
    def key(self) -> str:
        """A stable id for the file in score files: its path as written in the manifest."""
        return self.path.as_posix()


def read_manifest(path: str | Path) -> list[ManifestRow]:
    """Load a manifest, resolving paths against its folder; bad rows raise ConfigError."""
    manifest = Path(path)
    if not manifest.is_file():
        raise ConfigError(f"manifest not found: {manifest}")
    root = manifest.resolve().parent
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"manifest {manifest}: missing column(s) {', '.join(missing)}")
        rows = []
        for line, record in enumerate(reader, start=2):
            label = record["label"].strip()
            if label not in LABELS:
                raise ConfigError(
                    f"manifest {manifest} line {line}: label {label!r} is not one of {LABELS}"
                )
            if not record["path"] or not record["speaker"]:
                raise ConfigError(f"manifest {manifest} line {line}: empty path or speaker")
            rows.append(
                ManifestRow(
                    path=root / record["path"],
                    speaker=record["speaker"].strip(),
                    label=label,
                    dataset=(record.get("dataset") or "").strip(),
                    attack=(record.get("attack") or "").strip(),
                )
            )
    return rows


def write_manifest(path: str | Path, rows: Iterable[ManifestRow]) -> None:
    """Write rows as a manifest whose paths are relative to its own folder."""
    target = Path(path)
    root = target.resolve().parent
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "dataset", "speaker", "label", "attack"])
        for row in rows:
            writer.writerow(
                [_relative(row.path, root), row.dataset, row.speaker, row.label, row.attack]
            )


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), root)).as_posix()
