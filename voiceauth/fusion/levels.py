"""Verification levels and routes: all of a call's evidence, judged by a policy file.

Each service line lists its levels, highest first, each with the evidence it needs (`all_of`
and, optionally, at least one of `any_of`), and the route for each minimum level. A spoof
verdict or a watchlist hit routes to the fraud queue whatever else says, and the highest level
must need a possession factor (`otp` or `eid`): voice over a phone line is a risk signal, never
a standalone authenticator (NIST SP 800-63B). The file is validated when loaded, and
`PolicyFile` reloads it when it changes, keeping the last good policy if the new one is bad.
A line also says how its callers are identified (`identify`: caller-ID lookup on or off, and
the tries at keying a customer number).

Evidence names: `identified` (a claimed customer), `knowledge` (PIN, date of birth or a
security answer verified), `otp`, `eid`, `voice_match` (voice and liveness: the call's voice
state is `match`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from voiceauth.errors import ConfigError

log = logging.getLogger(__name__)

EVIDENCE = frozenset({"identified", "knowledge", "otp", "eid", "voice_match"})
POSSESSION = frozenset({"otp", "eid"})
DEFAULT_LINE = "default"
DEFAULT_POLICY = Path(__file__).resolve().parent / "levels.yaml"
KEYED_ATTEMPTS = 3
"""Tries at keying a customer number, unless a service line says otherwise."""
VERIFIED_LEVEL = 2
"""The level from which a call counts as verified in reports (one factor, default policy)."""
WORDS = {
    "identified": "caller identified",
    "knowledge": "knowledge factor verified",
    "otp": "one-time code verified",
    "eid": "strong eID approved",
    "voice_match": "voice and liveness match the customer",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    identified: bool = False
    knowledge: bool = False
    otp: bool = False
    eid: bool = False
    voice_match: bool = False
    spoof: bool = False
    watchlist_hit: bool = False

    def present(self) -> frozenset[str]:
        return frozenset(name for name in EVIDENCE if getattr(self, name))


@dataclass(frozen=True, slots=True)
class Level:
    level: int
    name: str
    all_of: frozenset[str]
    any_of: frozenset[str]

    def met_by(self, present: frozenset[str]) -> bool:
        return self.all_of <= present and (not self.any_of or bool(self.any_of & present))


@dataclass(frozen=True, slots=True)
class Identification:
    """How a line's callers are identified: caller-ID lookup (`ani_lookup`), and how many
    tries at keying a customer number before the unidentified path (`keyed_attempts`)."""

    ani_lookup: bool = True
    keyed_attempts: int = KEYED_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Line:
    levels: tuple[Level, ...]
    routes: tuple[tuple[int, str], ...]
    """(minimum level, route), highest first."""
    fraud_route: str
    identify: Identification = field(default_factory=Identification)


@dataclass(frozen=True, slots=True)
class Assessment:
    level: int
    name: str
    route: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LevelPolicy:
    lines: dict[str, Line]
    service_lines: dict[str, str]
    """Dialled number (DNIS) → service line; other numbers use `default`."""

    @classmethod
    def parse(cls, document: Any) -> LevelPolicy:
        """Validate a loaded policy document; ConfigError names what is wrong."""
        if not isinstance(document, dict) or document.get("version") != 1:
            raise ConfigError("level policy: need a mapping with version: 1")
        lines_doc = document.get("lines")
        if not isinstance(lines_doc, dict) or DEFAULT_LINE not in lines_doc:
            raise ConfigError(f"level policy: `lines` must include {DEFAULT_LINE!r}")
        lines = {}
        for name, body in lines_doc.items():
            try:
                lines[str(name)] = _line(str(name), body)
            except ConfigError as exc:
                located = "(file line" in str(exc)
                raise ConfigError(f"{exc}{'' if located else _on(body)}") from None
        mapping = document.get("service_lines") or {}
        if not isinstance(mapping, dict):
            raise ConfigError("level policy: `service_lines` must map numbers to lines")
        for number, line in mapping.items():
            if line not in lines:
                raise ConfigError(f"level policy: number {number} names unknown line {line!r}")
        return cls(lines, {str(k): str(v) for k, v in mapping.items()})

    @classmethod
    def load(cls, path: Path) -> LevelPolicy:
        """Read and validate a policy file; errors say where in the file (YAML's own
        position for syntax, the line of the offending entry for the rest)."""
        try:
            document = yaml.load(path.read_text(), Loader=_Loader)
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"level policy {path}: {exc}") from exc
        try:
            return cls.parse(document)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def line_for(self, dnis: str | None) -> Line:
        """The service line of a dialled number (`default` for numbers not listed)."""
        return self.lines[self.service_lines.get(dnis or "", DEFAULT_LINE)]

    def assess(self, evidence: Evidence, *, dnis: str | None = None) -> Assessment:
        """The level and route for a call's evidence on its service line."""
        line = self.line_for(dnis)
        if evidence.spoof or evidence.watchlist_hit:
            why = "voice flagged as synthetic or replayed" if evidence.spoof else "watchlist hit"
            return Assessment(0, "fraud suspected", line.fraud_route, (why,))
        present = evidence.present()
        reasons = tuple(WORDS[name] for name in sorted(present))
        for level in line.levels:
            if level.met_by(present):
                return Assessment(level.level, level.name, _route(line, level.level), reasons)
        return Assessment(0, "unidentified", _route(line, 0), reasons or ("caller not identified",))


def _route(line: Line, level: int) -> str:
    return next(route for minimum, route in line.routes if level >= minimum)


def _names(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"level policy: {where} must be a list of evidence names")
    unknown = set(value) - EVIDENCE
    if unknown:
        raise ConfigError(f"level policy: {where} names unknown evidence {sorted(unknown)}")
    return frozenset(value)


class _Located(dict[Any, Any]):
    """A mapping read from a policy file, with the file line it starts on (for errors)."""

    line: int | None = None


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML's safe loader, keeping each mapping's line."""


def _located(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Located:
    mapping = _Located(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _located)


def _on(entry: Any) -> str:
    """` (file line N)` for an entry read from a file, nothing for one built in code."""
    line = getattr(entry, "line", None)
    return "" if line is None else f" (file line {line})"


def _line(name: str, body: Any) -> Line:
    if not isinstance(body, dict):
        raise ConfigError(f"level policy: line {name!r} must be a mapping")
    levels = []
    for i, entry in enumerate(body.get("levels") or []):
        where = f"line {name!r} level #{i + 1}{_on(entry)}"
        if not isinstance(entry, dict) or not isinstance(entry.get("level"), int):
            raise ConfigError(f"level policy: {where} needs an integer `level`")
        all_of = _names(entry.get("all_of"), f"{where} all_of")
        any_of = _names(entry.get("any_of"), f"{where} any_of")
        if not all_of and not any_of:
            raise ConfigError(f"level policy: {where} needs all_of or any_of")
        levels.append(Level(entry["level"], str(entry.get("name", "")), all_of, any_of))
    if not levels:
        raise ConfigError(f"level policy: line {name!r} has no levels")
    levels.sort(key=lambda level: -level.level)
    top = levels[0]
    if not (top.all_of & POSSESSION) and not (top.any_of and top.any_of <= POSSESSION):
        raise ConfigError(
            f"level policy: line {name!r}: the top level must need a possession factor "
            "(otp or eid); voice is never enough alone"
        )
    routes_doc = body.get("routes")
    if not isinstance(routes_doc, list) or not routes_doc:
        raise ConfigError(f"level policy: line {name!r} needs `routes`")
    routes = sorted(
        ((int(r["min_level"]), str(r["route"])) for r in routes_doc if isinstance(r, dict)),
        key=lambda pair: -pair[0],
    )
    if len(routes) != len(routes_doc) or routes[-1][0] > 0:
        raise ConfigError(
            f"level policy: line {name!r}: every route needs min_level and route, "
            "and one must start at level 0"
        )
    fraud = body.get("fraud_route")
    if not isinstance(fraud, str) or not fraud:
        raise ConfigError(f"level policy: line {name!r} needs a `fraud_route`")
    return Line(tuple(levels), tuple(routes), fraud, _identification(name, body.get("identify")))


def _identification(name: str, body: Any) -> Identification:
    if body is None:
        return Identification()
    where = f"level policy: line {name!r} identify"
    if not isinstance(body, dict) or set(body) - {"ani_lookup", "keyed_attempts"}:
        raise ConfigError(f"{where}: may set only ani_lookup and keyed_attempts")
    default = Identification()
    lookup = body.get("ani_lookup", default.ani_lookup)
    attempts = body.get("keyed_attempts", default.keyed_attempts)
    if not isinstance(lookup, bool):
        raise ConfigError(f"{where}: ani_lookup must be true or false")
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 0 <= attempts <= 10:
        raise ConfigError(f"{where}: keyed_attempts must be an integer from 0 to 10")
    return Identification(lookup, attempts)


class PolicyFile:
    """A policy file reloaded when it changes; a bad edit keeps the last good policy."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = os.stat(path).st_mtime_ns
        self._policy = LevelPolicy.load(path)

    def current(self) -> LevelPolicy:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except OSError:
            return self._policy
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._policy = LevelPolicy.load(self.path)
                log.info("level policy %s reloaded", self.path)
            except ConfigError:
                log.exception("level policy %s invalid; keeping the previous one", self.path)
        return self._policy
