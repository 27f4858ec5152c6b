"""Run the VictoriaMetrics programs (Debian package ``victoria-metrics``) on loopback for the
tests and the benchmark, through ``children.spawn`` like Prometheus (binaries.py): own session,
ended by the kernel if gridwatch dies. Flags are those of 1.79 (bookworm), the oldest we support.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from gridwatch.binaries import Binary, _start, free_port
from gridwatch.fleet.sites import write_secret

PACKAGE = "victoria-metrics"
PROGRAMS = ("victoria-metrics", "vmauth", "vmagent", "vmalert")
READY = "/health"  # every VictoriaMetrics program answers "OK" here once it serves


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (apt-get install {PACKAGE})")
    return found


def missing() -> list[str]:
    return [name for name in PROGRAMS if shutil.which(name) is None]


def start_victoria_metrics(
    workdir: Path, port: int = 0, *, retention: str = "1y", extra: list[str] | None = None
) -> Binary:
    """On ``port`` exactly when given (a restart: vmauth points there), else a free one."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        binary("victoria-metrics"),
        f"-storageDataPath={workdir / 'data'}",
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-retentionPeriod={retention}",
        *(extra or []),
    ]
    return _start("victoria-metrics", argv, port, workdir, ready_path=READY)


def start_vmauth(config: dict[str, object], workdir: Path, port: int = 0) -> Binary:
    port = free_port(port)
    path = workdir / "vmauth.yml"
    write_secret(path, yaml.safe_dump(config, sort_keys=False))  # it holds every token
    argv = [binary("vmauth"), f"-auth.config={path}", f"-httpListenAddr=127.0.0.1:{port}"]
    return _start("vmauth", argv, port, workdir, ready_path=READY)


def start_vmagent(args: list[str], workdir: Path, port: int) -> Binary:
    """``args`` from ``snippets.vmagent_args`` (which sets the listen address to ``port``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return _start("vmagent", [binary("vmagent"), *args], port, workdir, ready_path=READY)


def start_vmalert(
    rules: list[Path],
    datasource: str,
    token_file: Path,
    workdir: Path,
    *,
    notifier: str | None = None,
    interval: str = "30s",
    port: int = 0,
) -> Binary:
    port = free_port(port)
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        binary("vmalert"),
        *(f"-rule={path}" for path in rules),
        f"-datasource.url={datasource}",
        f"-datasource.bearerTokenFile={token_file}",
        f"-evaluationInterval={interval}",
        f"-httpListenAddr=127.0.0.1:{port}",
    ]
    if notifier:
        argv.append(f"-notifier.url={notifier}")
    return _start("vmalert", argv, port, workdir, ready_path=READY)
