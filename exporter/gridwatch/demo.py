"""`gridwatch demo`: the exporter and the receiver against simulated devices and peers, plus
Prometheus, Alertmanager and Grafana from the project's own files when they are installed."""

from __future__ import annotations

import contextlib
import importlib
import logging
import tempfile
from importlib import resources
from pathlib import Path

import yaml

from gridwatch import children
from gridwatch.app import Exporter
from gridwatch.areas import AREAS
from gridwatch.binaries import (
    alertmanager_binary,
    alertmanager_config,
    free_port,
    grafana_binary,
    prometheus_binary,
    prometheus_config,
    start_alertmanager,
    start_grafana,
    start_prometheus,
)
from gridwatch.config import Config, load_config, parse_config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.shutdown import StopSignals
from gridwatch.sim.demo_part import DemoPart
from gridwatch.sim.receiver_demo import DemoReceiver, start_demo_receiver

log = logging.getLogger(__name__)

# Each area's demo part, in the order of the area list.
PARTS: tuple[DemoPart, ...] = tuple(
    importlib.import_module(area.demo_part).demo_part for area in AREAS if area.demo_part
)


def builtin_config() -> Config:
    text = resources.files("gridwatch").joinpath("demo.yml").read_text(encoding="utf-8")
    return parse_config(yaml.safe_load(text), "<built-in demo config>")


async def main(
    config_path: Path | None,
    *,
    port: int | None,
    prometheus: bool,
    clock: Clock = system_clock,
) -> int:
    """Run until SIGINT/SIGTERM/SIGHUP. ``clock`` is the simulators' and the exporter's "now"
    (tests pick an instant; Prometheus and the receiver keep the machine's time)."""
    # Signals first: a Ctrl-C, hang-up or SIGTERM during start-up stops what has started so far.
    with StopSignals() as stop:
        await _run(config_path, port=port, prometheus=prometheus, stop=stop, clock=clock)
    return 0


async def _run(
    config_path: Path | None,
    *,
    port: int | None,
    prometheus: bool,
    stop: StopSignals,
    clock: Clock,
) -> None:
    base = load_config(config_path) if config_path else builtin_config()
    async with contextlib.AsyncExitStack() as stack:
        config = base
        device_lines: list[str] = []
        for part in PARTS:
            config, lines = await part(config, stack, clock)
            device_lines += lines
        # A fresh state file per demo: the demo's simulated cost must not mix with a real one.
        data_dir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix=children.temp_prefix("demo")))
        )
        exporter_settings = base.exporter.model_copy(
            update={
                "listen_address": "127.0.0.1",
                "port": free_port(base.exporter.port if port is None else port),
            }
        )
        site = config.site.model_copy(update={"data_dir": data_dir})
        config = config.model_copy(update={"exporter": exporter_settings, "site": site})
        exporter = Exporter(config, clock=clock)
        await exporter.start()
        stack.push_async_callback(exporter.stop)

        # Ports first: the receiver's bot is told where Prometheus and Alertmanager will be.
        run_prometheus = prometheus and prometheus_binary() is not None
        run_alertmanager = run_prometheus and alertmanager_binary() is not None
        prom_port = free_port(9090) if run_prometheus else 9090
        am_port = free_port(9093) if run_alertmanager else 9093
        receiver = await start_demo_receiver(
            config,
            stack,
            workdir=data_dir,
            exporter_url=exporter.url,
            prometheus_url=f"http://127.0.0.1:{prom_port}",
            alertmanager_url=f"http://127.0.0.1:{am_port}",
        )
        lines = [
            "",
            "gridwatch demo is running:",
            f"  exporter     {exporter.url}/  ·  {exporter.url}/metrics",
            *device_lines,
            *receiver.lines,
        ]
        lines += await _start_binaries(
            stack,
            exporter,
            receiver,
            data_dir,
            prom_port=prom_port,
            am_port=am_port,
            prometheus=prometheus,
        )
        lines += ["Press Ctrl-C to stop.", ""]
        print("\n".join(lines), flush=True)
        await stop.wait()
        log.info("stopping demo")


async def _start_binaries(
    stack: contextlib.AsyncExitStack,
    exporter: Exporter,
    receiver: DemoReceiver,
    data_dir: Path,
    *,
    prom_port: int,
    am_port: int,
    prometheus: bool,
) -> list[str]:
    """Alertmanager, Prometheus and Grafana from the project's own files, when installed."""
    if not prometheus:
        return []
    if prometheus_binary() is None:
        return ["  prometheus   not installed (apt-get install prometheus) — skipped"]
    lines = []
    am_targets = None
    if alertmanager_binary() is not None:
        am = start_alertmanager(
            alertmanager_config(receiver_url=receiver.url, credentials_file=receiver.token_file),
            data_dir / "alertmanager",
            am_port,
        )
        stack.callback(am.stop)
        await am.wait_ready()
        am_targets = [f"127.0.0.1:{am.port}"]
        lines.append(f"  alertmanager {am.url}/api/v2/alerts  (routes to the receiver)")
    else:
        lines.append(
            "  alertmanager not installed (apt-get install prometheus-alertmanager) — skipped"
        )
    prom = start_prometheus(
        prometheus_config(
            exporter_targets=[f"127.0.0.1:{exporter.port}"], alertmanager_targets=am_targets
        ),
        data_dir / "prometheus",
        prom_port,
    )
    stack.callback(prom.stop)
    await prom.wait_ready()
    lines.append(f"  prometheus   {prom.url}/  (rules and alerts from prometheus/rules)")
    if grafana_binary() is not None:
        grafana, password = start_grafana(
            prometheus_url=prom.url,
            alertmanager_url=f"http://127.0.0.1:{am_port}",
            workdir=data_dir / "grafana",
        )
        stack.callback(grafana.stop)
        lines.append(f"  grafana      {grafana.url}/  (user admin, password {password})")
    return lines
