"""The deployment files agree with the settings and with each other (no docker or k8s needed).

Dockerfile, deploy/compose.yaml with deploy/voiceauth.env.example, and deploy/kubernetes/*.yaml
are read as text/YAML: every VOICEAUTH_* name they mention is a real setting, the values they
set validate with `load_settings` (secrets replaced by generated ones), and the ports they
publish, the probes and the grace periods follow from those values.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from voiceauth.api.keys import Scope, generate_api_key
from voiceauth.liveness.base import MODEL_FILES, SHIPPED
from voiceauth.settings import ENV_PREFIX, Settings, load_settings
from voiceauth.store.keyring import generate_key

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = DEPLOY / "voiceauth.env.example"
PLACEHOLDER = "CHANGE_ME"
SETTING = re.compile(r"\bVOICEAUTH_[A-Z0-9_]+")
KNOWN = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
SECRET_FIELDS = {
    ENV_PREFIX + name.upper()
    for name, field in Settings.model_fields.items()
    if SecretStr in getattr(field.annotation, "__args__", (field.annotation,))
}
POD_IP = "10.1.2.3"


# --- reading the files ----------------------------------------------------------------------


def yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        doc
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml_docs(path)
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''} in {K8S}, found {len(found)}"
    return found[0]


def compose() -> dict[str, Any]:
    (doc,) = yaml_docs(DEPLOY / "compose.yaml")
    return doc


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose env file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:?error} and ${VAR:-default}; a missing VAR fails the test."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        if name in variables:
            return variables[name]
        assert default is not None, f"compose needs {name}, which the env example does not set"
        return default

    return re.sub(r"\$\{(\w+)(:\?[^}]*|:-([^}]*))?\}", one, value)


def dockerfile_lines() -> list[str]:
    """Instructions, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        if raw.lstrip().startswith("#") and not pending:
            continue
        if raw.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = (pending + raw).strip()
        pending = ""
        if line:
            lines.append(line)
    return lines


def stages() -> list[list[str]]:
    """The Dockerfile's stages, each the list of its instructions (FROM first)."""
    result: list[list[str]] = []
    for line in dockerfile_lines():
        if line.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(line)
    return result


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [line[len(keyword) :].strip() for line in stage if line.upper().startswith(keyword)]


def dockerfile_env(stage: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in instructions(stage, "ENV "):
        for key, value in re.findall(r"(\w+)=(\S+)", args):
            env[key] = value
    return env


# --- secrets and settings ---------------------------------------------------------------------


def fill_secret(name: str, value: str) -> str:
    """A valid stand-in for a placeholder secret, so the rest of the values can be validated."""
    if name == "VOICEAUTH_KEYS":
        return f"k1:{generate_key()}"
    if name == "VOICEAUTH_API_KEYS":
        return generate_api_key("ivr", [Scope.TELEPHONY])[1]
    return value.replace(PLACEHOLDER, "s3cret")


def settings_of(env: Mapping[str, str]) -> Settings:
    filled = {k: fill_secret(k, v) if PLACEHOLDER in v else v for k, v in env.items()}
    return load_settings({k: v for k, v in filled.items() if k.startswith(ENV_PREFIX)})


def compose_env() -> dict[str, str]:
    """What the voiceauth container gets: the env example's lines, then compose's environment."""
    example = env_file(ENV_EXAMPLE)
    service = compose()["services"]["voiceauth"]
    env = dict(example)
    env.update({k: interpolate(str(v), example) for k, v in service["environment"].items()})
    return env


def deployment() -> dict[str, Any]:
    return k8s("Deployment", "voiceauth")


def container() -> dict[str, Any]:
    (main,) = [c for c in deployment()["spec"]["template"]["spec"]["containers"]]
    return main


def k8s_env() -> dict[str, str]:
    """What a pod gets: envFrom (ConfigMap, Secret), then env (the pod IP for fieldRefs)."""
    env: dict[str, str] = {}
    for source in container()["envFrom"]:
        if "configMapRef" in source:
            env.update(k8s("ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            env.update(k8s("Secret", source["secretRef"]["name"])["stringData"])
    for var in container().get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            assert var["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP", var
            env[var["name"]] = POD_IP
    return {k: str(v) for k, v in env.items()}


def rtp_ports(settings: Settings) -> set[int]:
    low, high = settings.rtp_port_range
    return set(range(low, high + 1))


def deploy_files() -> Iterator[Path]:
    yield DOCKERFILE
    yield from sorted(p for p in DEPLOY.rglob("*") if p.is_file())


# --- names and values ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(deploy_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_voiceauth_name_is_a_setting(path: Path) -> None:
    # Comments included: a misspelt name in a commented-out line is a trap for the operator.
    names = set(SETTING.findall(path.read_text()))
    unknown = names - KNOWN
    assert not unknown, f"{path.name} names {sorted(unknown)}, which are not settings"


def test_the_files_name_settings_at_all() -> None:
    # The check above must not pass by finding nothing.
    for path in (DOCKERFILE, ENV_EXAMPLE, DEPLOY / "compose.yaml", K8S / "configmap.yaml"):
        assert len(SETTING.findall(path.read_text())) >= 4, path


def test_compose_values_are_valid_settings() -> None:
    settings = settings_of(compose_env())
    assert settings.host == "0.0.0.0"
    assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://")
    assert settings.keys is not None and settings.api_keys is not None


def test_kubernetes_values_are_valid_settings() -> None:
    settings = settings_of(k8s_env())
    assert settings.host in {"0.0.0.0", POD_IP}, "the kubelet's probes must reach the server"
    assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://")
    assert settings.keys is not None and settings.api_keys is not None


def test_dockerfile_values_are_valid_settings() -> None:
    settings = settings_of(dockerfile_env(stages()[-1]))
    assert settings.host == "0.0.0.0"
    assert str(settings.home) == "/data"


@pytest.mark.parametrize(
    "env",
    [
        pytest.param(lambda: env_file(ENV_EXAMPLE), id="env-example"),
        pytest.param(lambda: k8s("Secret", "voiceauth-secrets")["stringData"], id="k8s-secret"),
    ],
)
def test_example_secrets_are_placeholders(env: Any) -> None:
    values = env()
    secrets = {k: v for k, v in values.items() if k in SECRET_FIELDS}
    assert {"VOICEAUTH_KEYS", "VOICEAUTH_API_KEYS"} <= set(secrets)
    assert all(PLACEHOLDER in v for v in secrets.values()), secrets
    others = {k: v for k, v in values.items() if k not in SECRET_FIELDS and PLACEHOLDER in v}
    assert set(others) <= {"POSTGRES_PASSWORD", "VOICEAUTH_DATABASE_URL"}, others
    assert all(v != "" for v in values.values()), "an empty value is a setting set to ''"


def test_no_secret_is_set_in_plain_configuration() -> None:
    plain = {
        "compose.yaml": compose()["services"]["voiceauth"]["environment"],
        "configmap.yaml": k8s("ConfigMap", "voiceauth-config")["data"],
        "Dockerfile": dockerfile_env(stages()[-1]),
        "deployment.yaml": {v["name"]: v for v in container().get("env", [])},
    }
    for where, env in plain.items():
        leaked = SECRET_FIELDS & set(env)
        assert not leaked, f"{where} sets secrets {sorted(leaked)}: they belong in a Secret/.env"


def test_the_filled_in_env_file_is_git_ignored() -> None:
    for path in ("deploy/.env", "deploy/voiceauth.env"):
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", path], cwd=ROOT, check=False
        ).returncode
        assert ignored == 0, f"{path} (with the key-encryption key) is not git-ignored"
    tracked = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/voiceauth.env.example"], cwd=ROOT, check=False
    ).returncode
    assert tracked == 1, "the example itself must stay committable"


# --- compose ------------------------------------------------------------------------------------


def published(service: dict[str, Any]) -> set[tuple[int, int, str]]:
    """(host port, container port, protocol) for every published port, ranges expanded."""
    result = set()
    for entry in service["ports"]:
        spec, _, proto = str(entry).partition("/")
        host, _, target = spec.rpartition(":")
        hosts, targets = (
            range(int(p.split("-")[0]), int(p.split("-")[-1]) + 1) for p in (host, target)
        )
        assert len(hosts) == len(targets), entry
        result |= {(h, t, proto or "tcp") for h, t in zip(hosts, targets, strict=True)}
    return result


def test_compose_publishes_exactly_the_configured_ports() -> None:
    settings = settings_of(compose_env())
    ports = published(compose()["services"]["voiceauth"])
    expected = {(settings.port, settings.port, "tcp")}
    expected.add((settings.audiosocket_port, settings.audiosocket_port, "tcp"))
    # Same number outside and in: POST /calls answers the port the platform sends RTP to.
    expected |= {(p, p, "udp") for p in rtp_ports(settings)}
    assert ports == expected
    assert len(rtp_ports(settings)) <= 200, "Docker publishes UDP ports one by one: keep it small"


def reserved(value: str) -> set[int]:
    """The ports an ip_local_reserved_ports value keeps from outgoing sockets."""
    result: set[int] = set()
    for part in value.split(","):
        low, _, high = part.partition("-")
        result |= set(range(int(low), int(high or low) + 1))
    return result


def test_the_rtp_range_is_kept_from_outgoing_sockets() -> None:
    compose_sysctls = compose()["services"]["voiceauth"]["sysctls"]
    compose_reserved = reserved(compose_sysctls["net.ipv4.ip_local_reserved_ports"])
    assert compose_reserved == rtp_ports(settings_of(compose_env()))
    pod = deployment()["spec"]["template"]["spec"]["securityContext"]
    (sysctl,) = [s for s in pod["sysctls"] if s["name"] == "net.ipv4.ip_local_reserved_ports"]
    assert reserved(sysctl["value"]) == rtp_ports(settings_of(k8s_env()))


def test_compose_waits_for_a_healthy_postgres_and_uses_it() -> None:
    services = compose()["services"]
    db = services["postgres"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert services["voiceauth"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = compose_env()["VOICEAUTH_DATABASE_URL"]
    match = re.fullmatch(r"postgresql\+psycopg://(\w+):([^@]+)@(\w+):5432/(\w+)", url)
    assert match, url
    user, password, host, name = match.groups()
    example = env_file(ENV_EXAMPLE)
    assert host == "postgres"
    assert user == db["environment"]["POSTGRES_USER"]
    assert name == db["environment"]["POSTGRES_DB"]
    assert password == interpolate(db["environment"]["POSTGRES_PASSWORD"], example)


def test_compose_keeps_the_data_directory_and_waits_out_the_drain() -> None:
    service = compose()["services"]["voiceauth"]
    settings = settings_of(compose_env())
    targets = {str(v).split(":")[1] for v in service["volumes"]}
    assert str(settings.home) in targets
    grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
    assert grace and int(grace.group(1)) > settings.drain_timeout_s
    assert service["build"]["context"] == ".."
    assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()


# --- kubernetes ---------------------------------------------------------------------------------


def container_ports() -> dict[str, tuple[int, str]]:
    return {p["name"]: (p["containerPort"], p["protocol"]) for p in container()["ports"]}


def test_deployment_declares_exactly_the_configured_ports() -> None:
    settings = settings_of(k8s_env())
    ports = set(container_ports().values())
    expected = {(settings.port, "TCP"), (settings.audiosocket_port, "TCP")}
    expected |= {(p, "UDP") for p in rtp_ports(settings)}
    assert ports == expected


@pytest.mark.parametrize("name", ["voiceauth", "voiceauth-media"])
def test_services_forward_the_configured_ports(name: str) -> None:
    settings = settings_of(k8s_env())
    service = k8s("Service", name)
    by_name = container_ports()
    forwarded = set()
    for port in service["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        number = by_name[target][0] if isinstance(target, str) else target
        assert (number, port["protocol"]) in set(by_name.values()), port
        if port["protocol"] == "UDP":
            assert port["port"] == number, "RTP goes to the port number POST /calls answers"
        forwarded.add((number, port["protocol"]))
    udp = {n for n, proto in forwarded if proto == "UDP"}
    assert udp == rtp_ports(settings), "every port of the RTP range is listed"
    assert (settings.audiosocket_port, "TCP") in forwarded
    if name == "voiceauth":
        assert (settings.port, "TCP") in forwarded
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def probe_target(probe: dict[str, Any]) -> tuple[str, int]:
    get = probe["httpGet"]
    port = get["port"]
    return get["path"], container_ports()[port][0] if isinstance(port, str) else port


def test_probes_ask_the_health_endpoints_on_the_http_port() -> None:
    port = settings_of(k8s_env()).port
    main = container()
    assert probe_target(main["livenessProbe"]) == ("/healthz", port)
    assert probe_target(main["readinessProbe"]) == ("/readyz", port)
    assert probe_target(main["startupProbe"]) == ("/healthz", port)
    startup = main["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, "models take a while"


def test_termination_grace_outlasts_the_drain() -> None:
    settings = settings_of(k8s_env())
    pause = 0
    pre_stop = container().get("lifecycle", {}).get("preStop")
    if pre_stop:
        command = pre_stop["exec"]["command"]
        assert command[0] == "sleep"
        pause = int(command[1])
    grace = deployment()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > pause + settings.drain_timeout_s


def test_deployment_runs_replicas_non_root_on_a_read_only_root() -> None:
    spec = deployment()["spec"]
    assert spec["replicas"] >= 2
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    context = container()["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert {"requests", "limits"} <= set(container()["resources"])


def test_writable_paths_and_the_model_volume_are_mounted() -> None:
    settings = settings_of(k8s_env())
    pod = deployment()["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container()["volumeMounts"]}
    assert {str(settings.home), "/tmp"} <= set(mounts), "read-only root: these must be volumes"
    assert settings.models_dir is not None, "an installed package has no models/ of its own"
    models = mounts[str(settings.models_dir)]
    assert models.get("readOnly") is True
    claim = volumes[models["name"]]["persistentVolumeClaim"]["claimName"]
    pvc = k8s("PersistentVolumeClaim", claim)
    shared = {"ReadWriteMany", "ReadOnlyMany"} & set(pvc["spec"]["accessModes"])
    assert shared, "replicas on several nodes share the model volume"


def test_the_seed_job_fills_the_model_volume_from_the_image() -> None:
    job = k8s("Job", "voiceauth-models-seed")["spec"]["template"]["spec"]
    (seed,) = job["containers"]
    volumes = deployment()["spec"]["template"]["spec"]["volumes"]
    claims = {
        v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v
    }
    (mount,) = seed["volumeMounts"]
    (volume,) = [v for v in job["volumes"] if v["name"] == mount["name"]]
    assert volume["persistentVolumeClaim"]["claimName"] in claims
    image_models = dockerfile_env(stages()[-1])["VOICEAUTH_MODELS_DIR"]
    assert seed["command"][:2] == ["cp", "-R"]
    assert seed["command"][2].rstrip("/.") == image_models
    assert seed["command"][3].rstrip("/") == mount["mountPath"]
    assert seed["image"] == container()["image"]


# --- Dockerfile and .dockerignore ---------------------------------------------------------------


def test_dockerfile_is_multi_stage_and_runs_as_a_user() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    final = all_stages[-1]
    (user,) = instructions(final, "USER ")
    assert user.split(":")[0] not in {"root", "0"}
    assert any("--from=" in copy for copy in instructions(final, "COPY "))
    (entrypoint,) = instructions(final, "ENTRYPOINT ")
    (cmd,) = instructions(final, "CMD ")
    assert entrypoint == '["voiceauth"]' and cmd == '["serve"]'


def test_dockerfile_health_check_asks_healthz() -> None:
    (check,) = instructions(stages()[-1], "HEALTHCHECK ")
    assert "/healthz" in check and "CMD" in check
    assert "127.0.0.1" in check or "localhost" in check


def test_dockerfile_exposes_the_configured_ports() -> None:
    settings = settings_of(dockerfile_env(stages()[-1]))
    exposed: set[tuple[int, str]] = set()
    for args in instructions(stages()[-1], "EXPOSE "):
        for item in args.split():
            ports, _, proto = item.partition("/")
            low, _, high = ports.partition("-")
            exposed |= {(p, proto or "tcp") for p in range(int(low), int(high or low) + 1)}
    expected = {(settings.port, "tcp"), (settings.audiosocket_port, "tcp")}
    expected |= {(p, "udp") for p in rtp_ports(settings)}
    assert exposed == expected


def test_dockerfile_models_dir_is_where_models_are_copied() -> None:
    all_stages = stages()
    models_dir = dockerfile_env(all_stages[-1])["VOICEAUTH_MODELS_DIR"]
    (copy,) = [c for c in instructions(all_stages[-1], "COPY ") if c.split()[-1] == models_dir]
    source = copy.split()[-2]
    if "--from=" in copy:
        stage_name = re.search(r"--from=(\S+)", copy).group(1)  # type: ignore[union-attr]
        (builder,) = [s for s in all_stages if s[0].split()[-1] == stage_name]
        assert any(c.split() == ["models", source] for c in instructions(builder, "COPY "))
    else:
        assert source.rstrip("/") == "models"
    assert any((ROOT / "models").rglob("*.json")), "the repository ships models/"


def test_dockerfile_torch_matches_the_project_pins() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = {d.split("==")[0]: d for d in pyproject["project"]["dependencies"] if "==" in d}
    installs = " ".join(
        line for stage in stages() for line in instructions(stage, "RUN ") if "torch" in line
    )
    for name in ("torch", "torchaudio"):
        assert pins[name] in installs.split(), f"Dockerfile must install {pins[name]}"
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE.read_text(), "CPU wheels by default"


def dockerignore_excludes(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = re.escape(pattern)
        regex = regex.replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, p) for p in prefixes):
            excluded = not negate
    return excluded


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        (".venv/bin/python", True),
        (".git/HEAD", True),
        ("runs/anything/log.txt", True),
        ("tests/conftest.py", True),
        ("deploy/.env", True),
        ("voiceauth/__pycache__/settings.cpython-311.pyc", True),
        ("pyproject.toml", False),
        ("README.md", False),
        ("voiceauth/settings.py", False),
    ],
)
def test_dockerignore(path: str, excluded: bool) -> None:
    assert dockerignore_excludes(path) is excluded


def test_dockerignore_keeps_every_file_the_dockerfile_copies() -> None:
    sources = {
        src
        for stage in stages()
        for copy in instructions(stage, "COPY ")
        if "--from=" not in copy
        for src in copy.split()[:-1]
        if not src.startswith("--")
    }
    assert {"models", "voiceauth", "pyproject.toml", "README.md"} <= sources
    for source in sources:
        path = ROOT / source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        files = [f for f in files if "__pycache__" not in f.parts]
        assert files, source
        for file in files:
            rel = file.relative_to(ROOT).as_posix()
            assert not dockerignore_excludes(rel), f"{rel} is copied but left out of the context"


@pytest.mark.parametrize(
    "env",
    [pytest.param(compose_env, id="compose"), pytest.param(k8s_env, id="kubernetes")],
)
def test_the_countermeasure_deployed_is_one_the_models_folder_ships(env: Any) -> None:
    # The models volume is this repository's models/ (Dockerfile, models.yaml): a detector
    # named here must have its folder there, or every replica fails to start.
    settings = settings_of(env())
    assert settings.cm in SHIPPED
    assert (ROOT / "models" / "liveness" / settings.cm / MODEL_FILES[settings.cm]).is_file()
