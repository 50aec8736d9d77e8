"""The JSON file of a countermeasure whose parameters are plain numbers.

LFCC-LR, Whisper-LR and the ensemble keep their model as a frozen dataclass written as
indented JSON (data, no pickle: it can be committed, reviewed and diffed) with a
`format_version`. `ModelFile` gives each the same save, load and version check; a model
class names itself (`kind`, `what`) and says how its JSON becomes constructor arguments
(`from_json`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self

from voiceauth.errors import ConfigError, ModelNotFound


class ModelFile:
    """Base of a frozen model dataclass that has a `format_version` field."""

    __slots__ = ()
    kind: ClassVar[str]
    """The countermeasure's name, as errors give it."""
    what: ClassVar[str]
    """What a file must be, as errors give it ("a lfcc-lr model")."""
    current_format: ClassVar[int]
    format_version: int
    __dataclass_fields__: ClassVar[dict[str, Any]]  # a dataclass subclass, for `asdict`

    def check_format(self) -> None:
        """ConfigError for a file of another format version (call it from __post_init__)."""
        if self.format_version != self.current_format:
            raise ConfigError(f"{self.kind} format_version {self.format_version!r} unknown")

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The constructor arguments a model's JSON object stands for (lists as tuples...)."""
        return data

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a model JSON; a missing file raises ModelNotFound, one that is not `what`
        ConfigError."""
        source = Path(path)
        if not source.is_file():
            raise ModelNotFound(
                f"{cls.what} not found: {source}; train one with `voiceauth train-cm`"
            )
        try:
            return cls(**cls.from_json(json.loads(source.read_text(encoding="utf-8"))))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{source} is not {cls.what}: {exc}") from exc
