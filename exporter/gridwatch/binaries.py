"""Run the real Prometheus and Alertmanager binaries on loopback, for `gridwatch demo` and the
end-to-end tests.

Both start from the project's own shipped files (``prometheus/prometheus.yml``,
``prometheus/rules``, ``alertmanager/alertmanager.yml``), so what the demo and the tests exercise
is what users deploy; only addresses, paths and (for tests) timings are rewritten. Each runs
through ``children.spawn``: in its own session, ended by the kernel if its parent dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from gridwatch import children

# Debian names the binary prometheus-alertmanager; upstream tarballs call it alertmanager.
ALERTMANAGER_NAMES = ("prometheus-alertmanager", "alertmanager")


def project_dir() -> Path:
    """The checkout holding prometheus/ and alertmanager/: the working directory when it has
    them (``make demo``), else the tree this package was installed from (editable installs)."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (candidate / "prometheus").is_dir():
            return candidate
    return Path.cwd()


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


def alertmanager_binary() -> str | None:
    for name in ALERTMANAGER_NAMES:
        if found := shutil.which(name):
            return found
    return None


def free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free on 127.0.0.1, else any free port."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen: int = sock.getsockname()[1]
            return chosen
    raise OSError("no free port on 127.0.0.1")


@dataclass
class Binary:
    """One running binary; ``stop()`` ends it and closes its log."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    log_path: Path
    _log: Any = field(repr=False, default=None)
    ready_path: str = "/-/ready"  # Prometheus and Alertmanager; Grafana has /api/health

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Until ``ready_path`` answers 200; raises with the log's tail when it never does."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(
                        f"{self.url}{self.ready_path}", timeout=aiohttp.ClientTimeout(total=2)
                    ) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready:\n{self.log_tail()}")

    def stop(self) -> None:
        children.stop(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None


def _start(
    name: str,
    argv: list[str],
    port: int,
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    ready_path: str = "/-/ready",
) -> Binary:
    log_path = workdir / f"{name}.log"
    log = log_path.open("wb")
    process = children.spawn(argv, stdout=log, cwd=workdir, env=env)
    return Binary(name, process, port, workdir, log_path, log, ready_path)


def _write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def prometheus_config(
    *,
    exporter_targets: list[str],
    alertmanager_targets: list[str] | None = None,
    scrape_interval: str | None = None,
    evaluation_interval: str | None = None,
    rules_dir: Path | None = None,
    base: Path | None = None,
    remote_write: list[dict[str, Any]] | None = None,
    external_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The shipped prometheus.yml with targets and rule paths pointed at this machine.

    Every scrape job is kept (with its own interval, rewritten only when ``scrape_interval`` is
    given); the gridwatch jobs' targets become ``exporter_targets``. ``remote_write`` and
    ``external_labels`` forward the series to a central store (gridwatch.fleet.snippets).
    """
    root = project_dir()
    shipped = base or root / "prometheus" / "prometheus.yml"
    config = copy.deepcopy(load_yaml(shipped)) if shipped.is_file() else {}
    glob = config.setdefault("global", {})
    glob.setdefault("scrape_interval", "5s")
    glob.setdefault("evaluation_interval", "5s")
    if scrape_interval:
        glob["scrape_interval"] = scrape_interval
        glob.pop("scrape_timeout", None)  # must not exceed the (shorter) interval
    if evaluation_interval:
        glob["evaluation_interval"] = evaluation_interval
    rules = rules_dir or root / "prometheus" / "rules"
    config["rule_files"] = [str(rules / "*.yml")] if rules.is_dir() else []
    jobs = [job for job in config.get("scrape_configs", []) if isinstance(job, dict)]
    exporter_jobs = [j for j in jobs if str(j.get("job_name", "")).startswith("gridwatch")]
    if not exporter_jobs:
        exporter_jobs = [{"job_name": "gridwatch"}]
    for job in exporter_jobs:
        job["static_configs"] = [{"targets": exporter_targets}]
        job.pop("file_sd_configs", None)
        if scrape_interval:
            job["scrape_interval"] = scrape_interval
            job.pop("scrape_timeout", None)
    # Other jobs (e.g. the receiver's own metrics) are dropped: their hosts do not exist here.
    config["scrape_configs"] = exporter_jobs
    if alertmanager_targets:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": alertmanager_targets}]}]
        }
    else:
        config.pop("alerting", None)
    if remote_write:
        config["remote_write"] = remote_write
    if external_labels:
        glob.setdefault("external_labels", {}).update(external_labels)
    return config


def start_prometheus(config: dict[str, Any], workdir: Path, port: int = 0) -> Binary:
    binary = prometheus_binary()
    if binary is None:
        raise FileNotFoundError("prometheus is not installed (apt-get install prometheus)")
    port = free_port(port)
    path = _write_yaml(workdir / "prometheus.yml", config)
    argv = [
        binary,
        f"--config.file={path}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]
    return _start("prometheus", argv, port, workdir)


def alertmanager_config(
    *,
    receiver_url: str,
    credentials_file: Path,
    timings: dict[str, str] | None = None,
    base: Path | None = None,
) -> dict[str, Any]:
    """The shipped alertmanager.yml with every webhook pointed at ``receiver_url`` and its bearer
    file at ``credentials_file``. ``timings`` (group_wait, group_interval, repeat_interval)
    overrides the routes' values, for tests that cannot wait minutes."""
    shipped = base or project_dir() / "alertmanager" / "alertmanager.yml"
    config = copy.deepcopy(load_yaml(shipped)) if shipped.is_file() else {}
    if not config:
        config = {
            "route": {"receiver": "gridwatch"},
            "receivers": [{"name": "gridwatch", "webhook_configs": [{}]}],
        }
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []) or []:
            hook["url"] = receiver_url
            hook.pop("url_file", None)
            auth = hook.setdefault("http_config", {}).setdefault("authorization", {})
            auth.pop("credentials", None)
            auth["credentials_file"] = str(credentials_file)
    if timings:
        _override_timings(config.get("route", {}), timings)
    return config


def _override_timings(route: dict[str, Any], timings: dict[str, str], root: bool = True) -> None:
    """The root route gets every timing; child routes only replace the ones they set
    themselves (the rest they inherit from the root)."""
    for key, value in timings.items():
        if root or key in route:
            route[key] = value
    for child in route.get("routes", []) or []:
        _override_timings(child, timings, root=False)


def start_alertmanager(config: dict[str, Any], workdir: Path, port: int = 0) -> Binary:
    binary = alertmanager_binary()
    if binary is None:
        raise FileNotFoundError(
            "Alertmanager is not installed (apt-get install prometheus-alertmanager)"
        )
    port = free_port(port)
    path = _write_yaml(workdir / "alertmanager.yml", config)
    argv = [
        binary,
        f"--config.file={path}",
        f"--storage.path={workdir / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}/",
        "--cluster.listen-address=",  # no gossip: a single local instance
    ]
    return _start("alertmanager", argv, port, workdir)


def grafana_binary() -> str | None:
    return shutil.which("grafana-server") or shutil.which("grafana")


def _grafana_homepath() -> Path | None:
    for candidate in (Path("/usr/share/grafana"), Path("/usr/local/share/grafana")):
        if (candidate / "conf" / "defaults.ini").is_file():
            return candidate
    return None


def start_grafana(
    *, prometheus_url: str, alertmanager_url: str, workdir: Path, port: int = 0
) -> tuple[Binary, str]:
    """Grafana with the project's provisioning (datasources pointed at this machine, the
    dashboards from grafana/dashboards). Returns the process and the admin password, which is
    made up for this run (the demo prints it)."""
    binary = grafana_binary()
    if binary is None:
        raise FileNotFoundError("grafana-server is not installed")
    root = project_dir() / "grafana"
    port = free_port(port or 3000)
    provisioning = workdir / "provisioning"
    for kind in ("datasources", "dashboards", "plugins", "alerting"):  # Grafana expects each
        (provisioning / kind).mkdir(parents=True, exist_ok=True)
    urls = {"prometheus": prometheus_url, "alertmanager": alertmanager_url}
    for path in sorted((root / "provisioning" / "datasources").glob("*.yml")):
        data = load_yaml(path)
        for source in data.get("datasources", []) or []:
            if source.get("type") in urls:
                source["url"] = urls[source["type"]]
        _write_yaml(provisioning / "datasources" / path.name, data)
    for path in sorted((root / "provisioning" / "dashboards").glob("*.yml")):
        data = load_yaml(path)
        for provider in data.get("providers", []) or []:
            provider.setdefault("options", {})["path"] = str(root / "dashboards")
        _write_yaml(provisioning / "dashboards" / path.name, data)
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "GF_PATHS_PROVISIONING": str(provisioning),
        "GF_PATHS_DATA": str(workdir / "data"),
        "GF_PATHS_LOGS": str(workdir / "logs"),
        "GF_PATHS_PLUGINS": str(workdir / "plugins"),
        "GF_SERVER_HTTP_ADDR": "127.0.0.1",
        "GF_SERVER_HTTP_PORT": str(port),
        "GF_SECURITY_ADMIN_USER": "admin",
        "GF_SECURITY_ADMIN_PASSWORD": password,
        "GF_AUTH_ANONYMOUS_ENABLED": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
        "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH": str(root / "dashboards" / "home.json"),
    }
    argv = [binary] if binary.endswith("grafana-server") else [binary, "server"]
    if (home := _grafana_homepath()) is not None:
        argv.append(f"--homepath={home}")
    grafana = _start("grafana", argv, port, workdir, env=env, ready_path="/api/health")
    return grafana, password
