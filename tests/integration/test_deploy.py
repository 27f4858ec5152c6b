"""The deployment files work with the real tools: promtool and amtool accept the configs laid out
as the containers and a native install see them, systemd accepts the units, the image's health
check tells a serving gridwatch from a broken one, and the shipped D-Bus policy lets the
container's user (and only that user) reach BlueZ on a bus that otherwise refuses it.

Without promtool / amtool those tests skip, except under CI=true where that is a failure.
Without systemd-analyze or dbus-daemon their tests skip.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from gridwatch.sim.polling import wait_until
from gridwatch.sim.service import RouteServer
from tests.helpers import required_binary
from tests.integration.test_cli import free_port
from tests.unit.test_compose import ROOT, SERVICES, bind_mounts

pytestmark = pytest.mark.integration

HEALTHCHECK = ROOT / "deploy" / "docker" / "healthcheck.py"
UNITS = sorted(
    [
        *(ROOT / "deploy" / "systemd").glob("*.service"),
        *(ROOT / "deploy" / "fleet").glob("*/*.service"),
    ]
)

BLUEZ_POLICY = ROOT / "deploy" / "docker" / "gridwatch-bluez.conf"
CONTAINER_UID = "10001"  # exporter/Dockerfile's GRIDWATCH_UID


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _container_layout(service: str, root: Path) -> Path:
    """Copy a service's bind mounts to where its container sees them, below ``root``."""
    for source, target in bind_mounts(service):
        host = ROOT / source
        inside = root / target.lstrip("/")
        inside.parent.mkdir(parents=True, exist_ok=True)
        if host.is_dir():
            shutil.copytree(host, inside)
        else:
            shutil.copy(host, inside)
    return root


# --- Prometheus and Alertmanager configs as deployed ---------------------------------------


def _promtool_check(config: Path) -> str:
    result = _run(required_binary("promtool", "prometheus"), "check", "config", str(config))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The rules must be found where rule_files says, not silently matched by nothing.
    for rules in sorted((ROOT / "prometheus" / "rules").glob("*.yml")):
        assert re.search(rf"{re.escape(rules.name)}\s+SUCCESS", output), output
    return output


def test_promtool_accepts_the_compose_prometheus_as_mounted(tmp_path: Path) -> None:
    root = _container_layout("prometheus", tmp_path)
    _promtool_check(root / "etc" / "prometheus" / "prometheus.yml")


def test_promtool_accepts_the_native_install_layout(tmp_path: Path) -> None:
    # docs/install.md: prometheus.yml and rules/ copied into Debian's /etc/prometheus.
    etc = tmp_path / "etc" / "prometheus"
    etc.mkdir(parents=True)
    shutil.copy(ROOT / "prometheus" / "prometheus.yml", etc / "prometheus.yml")
    shutil.copytree(ROOT / "prometheus" / "rules", etc / "rules")
    _promtool_check(etc / "prometheus.yml")


def test_amtool_accepts_the_compose_alertmanager_as_mounted(tmp_path: Path) -> None:
    root = _container_layout("alertmanager", tmp_path)
    config = root / "etc" / "alertmanager" / "alertmanager.yml"
    result = _run(required_binary("amtool", "prometheus-alertmanager"), "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_amtool_refuses_a_broken_compose_alertmanager(tmp_path: Path) -> None:
    # The check above means something: a route to a receiver that does not exist is refused.
    root = _container_layout("alertmanager", tmp_path)
    config = root / "etc" / "alertmanager" / "alertmanager.yml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["route"]["receiver"] = "nobody"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = _run(required_binary("amtool", "prometheus-alertmanager"), "check-config", str(config))
    assert result.returncode != 0


# --- systemd units -----------------------------------------------------------------------------


def _gridwatch_binary() -> str:
    binary = Path(sys.executable).parent / "gridwatch"
    assert binary.exists(), "the gridwatch console script is not installed in this venv"
    return str(binary)


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_accepts_the_unit_without_warnings(unit: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    if "fleet" in unit.parts:  # systemd checks that the VictoriaMetrics programs exist
        from tests.integration.fleet_harness import require_victoria_metrics

        require_victoria_metrics()
    text = unit.read_text(encoding="utf-8")
    # The unit names /opt/gridwatch (docs/install.md); here the venv's script stands in for it.
    local = tmp_path / unit.name
    local.write_text(text.replace("/opt/gridwatch/bin/gridwatch", _gridwatch_binary()))
    result = _run(analyze, "verify", str(local))
    assert result.returncode == 0, result.stderr
    # Unknown keys are only warnings for systemd; a hardening line with a typo must fail here.
    assert result.stderr.strip() == "", result.stderr


def _unit_values(unit: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


@pytest.mark.parametrize(
    ("unit", "command"),
    [("gridwatch.service", "run"), ("gridwatch-receiver.service", "receiver")],
)
def test_unit_runs_the_gridwatch_command_unprivileged_and_hardened(unit: str, command: str) -> None:
    values = _unit_values(ROOT / "deploy" / "systemd" / unit)
    (start,) = values["ExecStart"]
    argv = start.split()
    assert argv[:2] == ["/opt/gridwatch/bin/gridwatch", command]
    assert argv[argv.index("-c") + 1] == "/etc/gridwatch/gridwatch.yml"
    assert values["User"] == ["gridwatch"]
    for key, value in {
        "NoNewPrivileges": "true",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/var/lib/gridwatch",
        "ProtectHome": "true",
        "CapabilityBoundingSet": "",
    }.items():
        assert values.get(key) == [value], key
    # `gridwatch <command> --help` answers: the sub-command exists in the installed script.
    help_ = _run(_gridwatch_binary(), command, "--help")
    assert help_.returncode == 0 and "--config" in help_.stdout, help_.stderr


# --- the image's health check against real servers ----------------------------------------


def _healthcheck(url: str) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, str(HEALTHCHECK), url)


async def _healthcheck_async(url: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_healthcheck, url)


def _starter_config_for_loopback(tmp_path: Path) -> tuple[Path, int, int]:
    """The compose starter config, moved to loopback and free ports, with a real token file."""
    folder = next(ROOT / s for s, t in bind_mounts("exporter") if t == "/etc/gridwatch")
    data: dict[str, Any] = yaml.safe_load((folder / "gridwatch.yml").read_text(encoding="utf-8"))
    exporter_port, receiver_port = free_port(), free_port()
    data["site"]["data_dir"] = str(tmp_path / "data")
    data["exporter"].update(listen_address="127.0.0.1", port=exporter_port)
    token = tmp_path / "receiver_token"
    token.write_text("compose-test-token\n", encoding="utf-8")
    data["receiver"].update(
        listen_address="127.0.0.1",
        port=receiver_port,
        token_file=str(token),
        prometheus_url="http://127.0.0.1:9",
        alertmanager_url="http://127.0.0.1:9",
        exporter_url=f"http://127.0.0.1:{exporter_port}",
    )
    config = tmp_path / "gridwatch.yml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config, exporter_port, receiver_port


@pytest.fixture
async def compose_processes(tmp_path: Path) -> AsyncIterator[tuple[int, int]]:
    """exporter and receiver started with the compose services' own commands."""
    config, exporter_port, receiver_port = _starter_config_for_loopback(tmp_path)
    procs = []
    for service in ("exporter", "receiver"):
        argv = list(SERVICES[service]["command"])
        argv[argv.index("-c") + 1] = str(config)
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gridwatch",
                *argv,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        )
    try:
        yield exporter_port, receiver_port
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
            _, stderr = await asyncio.wait_for(proc.communicate(), 20)
            assert b"Traceback" not in stderr, stderr.decode()


async def _answers(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status < 500
    except aiohttp.ClientError:
        return False


async def test_healthcheck_passes_for_the_exporter_and_receiver_of_the_compose_file(
    compose_processes: tuple[int, int],
) -> None:
    exporter_port, receiver_port = compose_processes
    for port in (exporter_port, receiver_port):
        url = f"http://127.0.0.1:{port}/healthz"

        async def up(url: str = url) -> bool:
            return await _answers(url)

        await wait_until(up, what=f"{url} answering", timeout=30)
        result = await _healthcheck_async(url)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""


def test_healthcheck_fails_when_nothing_listens() -> None:
    url = f"http://127.0.0.1:{free_port()}/healthz"
    result = _healthcheck(url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"unhealthy: {url}: ")
    assert "refused" in result.stderr.lower()


async def test_healthcheck_fails_on_a_degraded_answer() -> None:
    # What the receiver answers when it cannot write its outbox.
    async def degraded(request: web.Request) -> web.Response:
        return web.json_response({"status": "degraded"}, status=503)

    async with RouteServer([web.get("/healthz", degraded)]) as server:
        result = await _healthcheck_async(f"{server.url}/healthz")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("HTTP 503")


def test_healthcheck_ignores_a_proxy_from_the_environment() -> None:
    # A proxy set for the internet (prices) must not be asked for the container's own port.
    env = {**os.environ, "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    url = f"http://127.0.0.1:{free_port()}/healthz"
    result = subprocess.run(
        [sys.executable, str(HEALTHCHECK), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 1
    assert url in result.stderr and "127.0.0.1:9/" not in result.stderr


# --- D-Bus policy for Bluetooth in Docker --------------------------------------------------

_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <!-- Like a host whose BlueZ policy lets only root and the bluetooth group in. -->
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <deny send_destination="org.bluez"/>
  </policy>
  {include}
</busconfig>
"""


def _start_bus(folder: Path, policy: Path | None) -> tuple[subprocess.Popen[bytes], str, Path]:
    daemon = shutil.which("dbus-daemon")
    if daemon is None or shutil.which("dbus-send") is None:
        pytest.skip("dbus-daemon / dbus-send not installed (apt-get install dbus)")
    include = f"<include>{policy}</include>" if policy else ""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "bus.conf"
    # A socket path must stay under 108 bytes: pytest's tmp_path can be longer.
    socket_dir = Path(tempfile.mkdtemp(prefix="gw-bus-"))
    config.write_text(_BUS.format(socket=socket_dir / "bus", include=include), encoding="utf-8")
    proc = subprocess.Popen(
        [daemon, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().decode().strip()  # printed once it listens
    # dbus-daemon refuses to start with an include it cannot parse.
    assert address, f"dbus-daemon did not start: {proc.communicate(timeout=10)[1].decode()}"
    return proc, address, socket_dir


def _stop_bus(proc: subprocess.Popen[bytes], socket_dir: Path) -> None:
    proc.terminate()
    proc.communicate(timeout=10)
    shutil.rmtree(socket_dir, ignore_errors=True)


def _introspect_bluez(address: str) -> subprocess.CompletedProcess[str]:
    send = shutil.which("dbus-send")
    assert send is not None
    return _run(
        send,
        f"--bus={address}",
        "--print-reply",
        "--dest=org.bluez",
        "/",
        "org.freedesktop.DBus.Introspectable.Introspect",
    )


async def _call_bluez(folder: Path, policy: Path | None) -> str:
    """Start a bus, own org.bluez on it, call it as this process's user; dbus-send's stderr."""
    from dbus_fast.aio import MessageBus

    proc, address, socket_dir = await asyncio.to_thread(_start_bus, folder, policy)
    try:
        bluez = await asyncio.wait_for(MessageBus(bus_address=address).connect(), 20)
        try:
            await asyncio.wait_for(bluez.request_name("org.bluez"), 20)
            call = await asyncio.to_thread(_introspect_bluez, address)
        finally:
            bluez.disconnect()
    finally:
        await asyncio.to_thread(_stop_bus, proc, socket_dir)
    return call.stderr


async def test_bluez_policy_lets_the_container_user_reach_bluez(tmp_path: Path) -> None:
    denied = await _call_bluez(tmp_path / "without", None)
    assert "AccessDenied" in denied  # the bus really refuses, so the next call proves the file

    text = BLUEZ_POLICY.read_text(encoding="utf-8")
    assert f'<policy user="{CONTAINER_UID}">' in text
    assert f"GRIDWATCH_UID={CONTAINER_UID}" in (ROOT / "exporter" / "Dockerfile").read_text()
    policy = tmp_path / "gridwatch-bluez.conf"  # the same file, for the uid running this test
    policy.write_text(text.replace(f'user="{CONTAINER_UID}"', f'user="{os.getuid()}"'))
    allowed = await _call_bluez(tmp_path / "with", policy)
    assert "AccessDenied" not in allowed, allowed


async def test_bluez_policy_does_not_open_bluez_to_other_users(tmp_path: Path) -> None:
    if os.getuid() == int(CONTAINER_UID):
        pytest.skip("running as the container's uid")
    denied = await _call_bluez(tmp_path, BLUEZ_POLICY)
    assert "AccessDenied" in denied
