"""Verification levels and routes: every rule of the shipped policy, and its validation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from voiceauth.errors import ConfigError
from voiceauth.fusion.levels import Evidence, Identification, LevelPolicy, PolicyFile

SHIPPED = Path(__file__).resolve().parents[2] / "voiceauth" / "fusion" / "levels.yaml"


@pytest.fixture(scope="module")
def policy() -> LevelPolicy:
    return LevelPolicy.load(SHIPPED)


@pytest.mark.parametrize(
    ("evidence", "level", "route"),
    [
        (Evidence(), 0, "agent_unauthenticated"),
        (Evidence(identified=True), 1, "step_up"),
        (Evidence(identified=True, voice_match=True), 2, "agent_no_security_questions"),
        (Evidence(identified=True, otp=True), 2, "agent_no_security_questions"),
        (Evidence(identified=True, knowledge=True), 2, "agent_no_security_questions"),
        (Evidence(identified=True, voice_match=True, knowledge=True), 3, "self_service"),
        (Evidence(identified=True, eid=True), 4, "self_service"),
        (Evidence(identified=True, eid=True, spoof=True), 0, "fraud_queue"),
        (Evidence(identified=True, eid=True, watchlist_hit=True), 0, "fraud_queue"),
    ],
)
def test_every_rule_of_the_shipped_policy(
    policy: LevelPolicy, evidence: Evidence, level: int, route: str
) -> None:
    assessed = policy.assess(evidence)
    assert (assessed.level, assessed.route) == (level, route)
    assert assessed.reasons


def test_voice_alone_never_reaches_the_top(policy: LevelPolicy) -> None:
    top = policy.assess(Evidence(identified=True, voice_match=True, knowledge=True, otp=True))
    assert top.level == 3  # without eID the top level stays out of reach


def base() -> dict:
    return yaml.safe_load(SHIPPED.read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("version"), "version: 1"),
        (lambda d: d["lines"].pop("default"), "'default'"),
        (lambda d: d["lines"]["default"]["levels"][0].update(all_of=["identified"]), "possession"),
        (lambda d: d["lines"]["default"]["levels"][1].update(all_of=["telepathy"]), "telepathy"),
        (lambda d: d["lines"]["default"]["routes"].pop(), "level 0"),
        (lambda d: d["lines"]["default"].pop("fraud_route"), "fraud_route"),
        (lambda d: d.update(service_lines={"+4680": "nope"}), "unknown line"),
        (lambda d: d["lines"]["default"].update(identify={"pin": 1}), "may set only"),
        (lambda d: d["lines"]["default"].update(identify={"ani_lookup": "yes"}), "true or false"),
        (lambda d: d["lines"]["default"].update(identify={"keyed_attempts": 99}), "0 to 10"),
    ],
)
def test_bad_policies_are_refused_with_a_reason(edit: object, message: str) -> None:
    document = base()
    edit(document)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        LevelPolicy.parse(document)


def test_service_lines_by_dialled_number() -> None:
    document = base()
    strict = yaml.safe_load(yaml.safe_dump(document["lines"]["default"]))
    strict["routes"] = [
        {"min_level": 4, "route": "self_service"},
        {"min_level": 0, "route": "agent"},
    ]
    document["lines"]["private_banking"] = strict
    document["service_lines"] = {"+4680100": "private_banking"}
    policy = LevelPolicy.parse(document)
    evidence = Evidence(identified=True, voice_match=True, knowledge=True)
    assert policy.assess(evidence, dnis="+4680100").route == "agent"
    assert policy.assess(evidence, dnis="+4680999").route == "self_service"


def test_identification_per_service_line() -> None:
    document = base()
    shared = yaml.safe_load(yaml.safe_dump(document["lines"]["default"]))
    document["lines"]["shared_phones"] = {
        **shared,
        "identify": {"ani_lookup": False, "keyed_attempts": 1},
    }
    document["service_lines"] = {"+4680200": "shared_phones"}
    policy = LevelPolicy.parse(document)
    assert policy.line_for("+4680200").identify == Identification(False, 1)
    assert policy.line_for(None).identify == Identification(True, 3)


def test_hot_reload_keeps_the_last_good_policy(tmp_path: Path) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text(SHIPPED.read_text())
    live = PolicyFile(path)
    evidence = Evidence(identified=True)
    assert live.current().assess(evidence).route == "step_up"
    edited = base()
    edited["lines"]["default"]["routes"][2]["route"] = "ask_for_pin"
    path.write_text(yaml.safe_dump(edited))
    os.utime(path, ns=(1, 1))  # a new modification time, however fast the test runs
    assert live.current().assess(evidence).route == "ask_for_pin"
    path.write_text("version: 2")
    os.utime(path, ns=(2, 2))
    assert live.current().assess(evidence).route == "ask_for_pin"


def test_an_error_in_a_policy_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "levels.yaml"
    text = SHIPPED.read_text()
    path.write_text(text.replace("all_of: [identified, eid]", "all_of: [identified, eid, dna]"))
    line = 1 + next(i for i, row in enumerate(path.read_text().splitlines()) if "dna" in row)
    with pytest.raises(ConfigError, match=rf"level #1 \(file line {line}\).*'dna'"):
        LevelPolicy.load(path)
    path.write_text(text.replace("fraud_route: fraud_queue", "fraud_rout: fraud_queue"))
    with pytest.raises(ConfigError, match=r"needs a `fraud_route` \(file line \d+\)"):
        LevelPolicy.load(path)
    path.write_text("version: 1\nlines: [\n")
    with pytest.raises(ConfigError, match="line 3"):  # YAML's own position
        LevelPolicy.load(path)
