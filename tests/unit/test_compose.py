"""docker-compose.yml and what it mounts: every host path exists, every URL between services
names a service and the port it listens on, the compose-only Prometheus and Alertmanager configs
are the native ones with only the addresses changed, and the image runs the commands it says.

No docker needed: the files are read as YAML, as `docker compose config` would see them with an
empty environment (defaults from ${VAR:-default}).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gridwatch.cli import build_parser
from gridwatch.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
HOST_NETWORK = ROOT / "deploy" / "docker" / "compose.host-network.yml"
DOCKERFILE = ROOT / "exporter" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
NATIVE_PROMETHEUS = ROOT / "prometheus" / "prometheus.yml"
NATIVE_ALERTMANAGER = ROOT / "alertmanager" / "alertmanager.yml"

# Where each service listens inside the compose network (the images' and gridwatch's defaults).
PORTS = {
    "exporter": 9864,
    "receiver": 9865,
    "prometheus": 9090,
    "alertmanager": 9093,
    "grafana": 3000,
    "renderer": 8081,
}

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error}, with an empty environment by default."""
    env = env or {}

    def sub(match: re.Match[str]) -> str:
        value = env.get(match["name"])
        op = match["op"] or ""
        if op.endswith("-") and not value:
            return str(match["arg"])
        if op.endswith("?") and not value:
            return f"<required:{match['name']}>"
        return value or ""

    return _VAR.sub(sub, text).replace("$$", "$")


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(interpolate(path.read_text(encoding="utf-8")))
    return data


COMPOSE_DATA = load_compose()
SERVICES: dict[str, dict[str, Any]] = COMPOSE_DATA["services"]


def bind_mounts(service: str) -> list[tuple[str, str]]:
    """(host path, container path) of a service's bind mounts; named volumes left out."""
    mounts = []
    for entry in SERVICES[service].get("volumes", []):
        source, target = str(entry).split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append((source, target))
    return mounts


def host_port(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host, int(port)


def url_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None, url
    return parts.hostname, parts.port


# --- the compose file itself --------------------------------------------------------------------


def test_compose_has_the_whole_stack() -> None:
    assert set(SERVICES) == set(PORTS)
    assert COMPOSE_DATA["name"] == "gridwatch"


def test_exporter_and_receiver_are_one_image_built_from_the_dockerfile() -> None:
    for name in ("exporter", "receiver"):
        service = SERVICES[name]
        build = service["build"]
        assert (ROOT / build["context"]).resolve() == ROOT
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert SERVICES["exporter"]["image"] == SERVICES["receiver"]["image"]


@pytest.mark.parametrize("service", sorted(PORTS))
def test_every_mounted_host_path_exists_in_the_repository(service: str) -> None:
    for source, target in bind_mounts(service):
        if source.startswith("/"):
            pytest.fail(f"{service}: absolute host path {source} cannot ship with the repository")
        path = ROOT / source
        assert path.exists(), f"{service}: {source} (mounted at {target}) is not in the repository"


def test_the_host_network_file_mounts_only_the_host_d_bus() -> None:
    extra = yaml.safe_load(HOST_NETWORK.read_text(encoding="utf-8"))["services"]
    assert extra["exporter"]["network_mode"] == "host"
    assert extra["exporter"]["volumes"] == ["/run/dbus:/run/dbus:ro"]
    # Without compose DNS for the exporter, the name must still lead to it.
    for name in ("prometheus", "receiver"):
        assert "exporter:host-gateway" in extra[name]["extra_hosts"], name
    assert set(extra) <= set(SERVICES)


def test_every_third_party_image_is_pinned_to_a_version() -> None:
    """`latest` changes under a running install (and has no 32-bit ARM renderer to fall back
    on); upgrades are a deliberate edit of this file (docs/docker.md)."""
    for name, service in SERVICES.items():
        image = service["image"]
        if image.startswith("gridwatch:"):
            continue
        tag = image.partition(":")[2]
        assert tag and tag != "latest" and re.fullmatch(r"v?\d+\.\d+\.\d+", tag), (name, image)


# The renderer image ships no HTTP client to check itself with; Grafana reports render failures.
@pytest.mark.parametrize("service", sorted(set(PORTS) - {"renderer"}))
def test_every_service_has_a_healthcheck_on_its_own_port(service: str) -> None:
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    (url,) = [arg for arg in test if arg.startswith("http://")]
    assert url_host_port(url) == ("127.0.0.1", PORTS[service])


def test_gridwatch_healthchecks_use_the_script_the_image_installs() -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "/usr/local/bin/gridwatch-healthcheck" in dockerfile
    assert 'CMD ["gridwatch-healthcheck"]' in dockerfile
    for name in ("exporter", "receiver"):
        assert SERVICES[name]["healthcheck"]["test"][1] == "gridwatch-healthcheck"


def test_secrets_and_passwords_come_from_the_environment() -> None:
    assert COMPOSE_DATA["secrets"]["receiver_token"] == {"environment": "GRIDWATCH_WEBHOOK_TOKEN"}
    for name in ("exporter", "receiver", "alertmanager"):
        assert "receiver_token" in SERVICES[name]["secrets"], name
    grafana = SERVICES["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == "<required:GF_SECURITY_ADMIN_PASSWORD>"
    raw = COMPOSE.read_text(encoding="utf-8")
    assert "GF_SECURITY_ADMIN_PASSWORD: ${GF_SECURITY_ADMIN_PASSWORD:?" in raw


def test_renderer_and_grafana_find_each_other_by_service_name() -> None:
    grafana = SERVICES["grafana"]["environment"]
    assert url_host_port(grafana["GF_RENDERING_SERVER_URL"]) == ("renderer", PORTS["renderer"])
    assert urlsplit(grafana["GF_RENDERING_SERVER_URL"]).path == "/render"
    assert url_host_port(grafana["GF_RENDERING_CALLBACK_URL"]) == ("grafana", PORTS["grafana"])
    # The same token on both sides, or every render is a 401.
    raw = load_compose_raw()
    assert raw["services"]["grafana"]["environment"]["GF_RENDERING_RENDERER_TOKEN"].startswith(
        "${GRAFANA_RENDERER_TOKEN"
    )
    assert raw["services"]["renderer"]["environment"]["AUTH_TOKEN"].startswith(
        "${GRAFANA_RENDERER_TOKEN"
    )


def load_compose_raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def test_prometheus_retention_is_set_and_configurable() -> None:
    command = SERVICES["prometheus"]["command"]
    assert "--storage.tsdb.retention.time=400d" in command
    assert "--storage.tsdb.retention.size=20GB" in command
    assert "--config.file=/etc/prometheus/prometheus.yml" in command
    raw = load_compose_raw()["services"]["prometheus"]["command"]
    assert "--storage.tsdb.retention.time=${PROMETHEUS_RETENTION_TIME:-400d}" in raw


def _compose_variables(text: str) -> dict[str, str]:
    """Every ${VAR...} of the compose files: name → operator ('' bare, ':-' default, ':?')."""
    found: dict[str, str] = {}
    for match in _VAR.finditer(text):
        found.setdefault(match["name"], match["op"] or "")
    return found


def _env_example() -> dict[str, str]:
    pairs = {}
    for raw in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def test_env_example_names_every_variable_and_no_others() -> None:
    raw_text = COMPOSE.read_text(encoding="utf-8")
    variables = _compose_variables(raw_text)
    variables["GRIDWATCH_WEBHOOK_TOKEN"] = ""  # the secret's source, named without ${}
    example = _env_example()
    assert set(example) == set(variables), (
        f"missing from .env.example: {sorted(set(variables) - set(example))}; "
        f"unused: {sorted(set(example) - set(variables))}"
    )
    # Secrets have no default anywhere: the user must choose them.
    secrets = ("GF_SECURITY_ADMIN_PASSWORD", "GRAFANA_RENDERER_TOKEN", "GRIDWATCH_WEBHOOK_TOKEN")
    for secret in secrets:
        assert example[secret] == "", secret
    # The example's defaults are the compose file's defaults.
    for name, op in variables.items():
        if op == ":-":
            (default,) = {m["arg"] for m in _VAR.finditer(raw_text) if m["name"] == name}
            assert example[name] == default, name


def test_env_file_is_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored


# --- Prometheus and Alertmanager inside compose ----------------------------------------------


def _mounted_file(service: str, target: str) -> Path:
    for source, container in bind_mounts(service):
        if container == target:
            return ROOT / source
    raise AssertionError(f"{service}: nothing mounted at {target}")


def _service_for(target: str) -> str:
    host, port = host_port(target)
    assert host in PORTS, f"{target}: {host} is not a compose service"
    assert PORTS[host] == port, f"{target}: {host} listens on {PORTS[host]}"
    return host


def test_prometheus_targets_are_compose_services() -> None:
    config = yaml.safe_load(
        _mounted_file("prometheus", "/etc/prometheus/prometheus.yml").read_text(encoding="utf-8")
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {
        job: [_service_for(t) for sc in spec["static_configs"] for t in sc["targets"]]
        for job, spec in jobs.items()
    }
    assert targets["gridwatch"] == ["exporter"]
    (alerting,) = config["alerting"]["alertmanagers"]
    assert [_service_for(t) for t in alerting["static_configs"][0]["targets"]] == ["alertmanager"]


def _localize(node: Any, mapping: dict[str, str]) -> Any:
    """The native config with each compose address swapped for its loopback original."""
    if isinstance(node, dict):
        return {k: _localize(v, mapping) for k, v in node.items()}
    if isinstance(node, list):
        return [_localize(v, mapping) for v in node]
    if isinstance(node, str):
        for compose, native in mapping.items():
            node = node.replace(compose, native)
    return node


def test_compose_prometheus_is_the_native_one_with_service_names() -> None:
    compose = yaml.safe_load(
        _mounted_file("prometheus", "/etc/prometheus/prometheus.yml").read_text(encoding="utf-8")
    )
    native = yaml.safe_load(NATIVE_PROMETHEUS.read_text(encoding="utf-8"))
    loopback = {f"{name}:{port}": f"127.0.0.1:{port}" for name, port in PORTS.items()}
    assert _localize(compose, loopback) == native, (
        "deploy/docker/prometheus.yml drifted from prometheus/prometheus.yml: copy the change, "
        "keeping the compose service names as targets"
    )


def test_compose_prometheus_reads_the_rules_folder() -> None:
    compose = yaml.safe_load(
        _mounted_file("prometheus", "/etc/prometheus/prometheus.yml").read_text(encoding="utf-8")
    )
    assert compose["rule_files"] == ["rules/*.yml"]
    assert _mounted_file("prometheus", "/etc/prometheus/rules") == ROOT / "./prometheus/rules"
    assert list((ROOT / "prometheus" / "rules").glob("*.yml"))


COMPOSE_TOKEN = "/run/secrets/receiver_token"


def _alertmanager() -> dict[str, Any]:
    path = _mounted_file("alertmanager", "/etc/alertmanager/alertmanager.yml")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_alertmanager_webhooks_reach_the_receiver_service_with_the_secret() -> None:
    receivers = _alertmanager()["receivers"]
    assert receivers
    for receiver in receivers:
        for hook in receiver["webhook_configs"]:
            assert url_host_port(hook["url"]) == ("receiver", PORTS["receiver"]), receiver["name"]
            assert urlsplit(hook["url"]).path == "/alertmanager"
            auth = hook["http_config"]["authorization"]
            assert auth == {"type": "Bearer", "credentials_file": COMPOSE_TOKEN}


def test_compose_alertmanager_is_the_native_one_with_the_receiver_service() -> None:
    native = yaml.safe_load(NATIVE_ALERTMANAGER.read_text(encoding="utf-8"))
    native_hook = native["receivers"][0]["webhook_configs"][0]
    mapping = {
        "http://receiver:9865": "http://127.0.0.1:9865",
        COMPOSE_TOKEN: native_hook["http_config"]["authorization"]["credentials_file"],
    }
    assert _localize(_alertmanager(), mapping) == native, (
        "deploy/docker/alertmanager.yml drifted from alertmanager/alertmanager.yml: copy the "
        "change, keeping the receiver service URL and /run/secrets/receiver_token"
    )


# --- Grafana: provisioning from grafana/, datasources on service names --------------------------


def test_grafana_provisioning_and_dashboards_are_mounted() -> None:
    targets = {target for _, target in bind_mounts("grafana")}
    assert "/etc/grafana/provisioning" in targets
    assert "/var/lib/grafana/dashboards/gridwatch" in targets


def _grafana_files(kind: str) -> list[Path]:
    folder = _mounted_file("grafana", "/etc/grafana/provisioning") / kind
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])


def test_grafana_dashboard_provider_reads_a_mounted_folder() -> None:
    providers = [
        p
        for f in _grafana_files("dashboards")
        for p in yaml.safe_load(f.read_text(encoding="utf-8")).get("providers", [])
    ]
    assert providers, "grafana/provisioning/dashboards has no provider"
    mounts = dict((t, ROOT / s) for s, t in bind_mounts("grafana"))
    for provider in providers:
        path = interpolate(provider["options"]["path"], _grafana_env())
        (base,) = [t for t in mounts if path == t or path.startswith(t + "/")]
        folder = mounts[base] / Path(path).relative_to(base)
        assert list(folder.rglob("*.json")), f"no dashboards in {folder} (Grafana's {path})"


def _grafana_env() -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES["grafana"].get("environment", {}).items()}


def test_grafana_datasources_point_at_compose_services() -> None:
    datasources = [
        d
        for f in _grafana_files("datasources")
        for d in yaml.safe_load(f.read_text(encoding="utf-8")).get("datasources", [])
    ]
    assert datasources, "grafana/provisioning/datasources provisions nothing"
    for source in datasources:
        url = interpolate(source["url"], _grafana_env())
        host, port = url_host_port(url)
        assert host in PORTS, f"{source['name']}: {url} is not a compose service"
        assert port == PORTS[host], f"{source['name']}: {url} ({host} listens on {PORTS[host]})"


# --- the image: entry points, COPY sources, build context -------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    result = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _copy_sources() -> list[str]:
    sources = []
    for keyword, rest in _instructions():
        if keyword != "COPY":
            continue
        args = [a for a in shlex.split(rest) if not a.startswith("--")]
        if "--from=" in rest:
            continue  # from the build stage, not the context
        sources += args[:-1]
    return sources


def test_dockerfile_copies_only_what_exists_and_dockerignore_lets_through() -> None:
    sources = _copy_sources()
    assert "pyproject.toml" in sources and "exporter/gridwatch/" in sources
    allowed = [
        line[1:].rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    ]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        clean = source.rstrip("/")
        assert any(clean == a or clean.startswith(a + "/") for a in allowed), (
            f"COPY {source}: excluded by .dockerignore"
        )


def test_the_image_is_python_312_slim_and_runs_as_an_unprivileged_user() -> None:
    instructions = _instructions()
    assert ("ARG", "PYTHON_IMAGE=python:3.12-slim") in instructions
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users == ["gridwatch:gridwatch"]
    assert ("WORKDIR", "/var/lib/gridwatch") in instructions


def _exec_form(keyword: str) -> list[str]:
    (value,) = [rest for k, rest in _instructions() if k == keyword]
    parsed: list[str] = yaml.safe_load(value)  # a JSON array
    return parsed


def _parses_as(argv: list[str]) -> str:
    args = build_parser().parse_args(argv)
    return str(args.command)


def test_pyproject_console_script_is_the_cli() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^gridwatch = "gridwatch\.cli:main"$', text, re.MULTILINE)


def test_image_entry_point_runs_the_exporter_by_default() -> None:
    assert _exec_form("ENTRYPOINT") == ["gridwatch"]
    cmd = _exec_form("CMD")
    assert _parses_as(cmd) == "run"
    assert cmd[cmd.index("-c") + 1] == "/etc/gridwatch/gridwatch.yml"


@pytest.mark.parametrize(("service", "command"), [("exporter", "run"), ("receiver", "receiver")])
def test_compose_commands_are_gridwatch_sub_commands(service: str, command: str) -> None:
    argv = SERVICES[service]["command"]
    assert _parses_as(argv) == command
    config = argv[argv.index("-c") + 1]
    assert config == "/etc/gridwatch/gridwatch.yml"
    assert any(t == "/etc/gridwatch" and config.startswith(t) for _, t in bind_mounts(service))


# --- the starter config the compose file mounts ------------------------------------------------


def _starter_config(tmp_path: Path) -> Any:
    folder = _mounted_file("exporter", "/etc/gridwatch")
    assert folder == _mounted_file("receiver", "/etc/gridwatch")
    data = yaml.safe_load((folder / "gridwatch.yml").read_text(encoding="utf-8"))
    assert data["receiver"]["token_file"] == COMPOSE_TOKEN  # the compose secret
    token = tmp_path / "receiver_token"
    token.write_text("a-token\n")
    data["receiver"]["token_file"] = str(token)
    return parse_config(data, "deploy/docker/config/gridwatch.yml", folder)


def test_starter_config_is_valid_and_keeps_state_in_the_volume(tmp_path: Path) -> None:
    config = _starter_config(tmp_path)
    assert str(config.site.data_dir) == "/var/lib/gridwatch"
    for name in ("exporter", "receiver"):
        volumes = [str(v) for v in SERVICES[name]["volumes"]]
        assert any(v.endswith(":/var/lib/gridwatch") and not v.startswith(".") for v in volumes)


def test_starter_config_listens_where_the_services_are_reached(tmp_path: Path) -> None:
    config = _starter_config(tmp_path)
    assert (config.exporter.listen_address, config.exporter.port) == ("0.0.0.0", 9864)
    receiver = config.receiver
    assert (receiver.listen_address, receiver.port) == ("0.0.0.0", PORTS["receiver"])
    assert url_host_port(receiver.prometheus_url) == ("prometheus", PORTS["prometheus"])
    assert url_host_port(receiver.alertmanager_url) == ("alertmanager", PORTS["alertmanager"])
    assert url_host_port(receiver.exporter_url) == ("exporter", PORTS["exporter"])
