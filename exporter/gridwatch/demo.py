"""`gridwatch demo`: the exporter against simulated devices, plus Prometheus when installed."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from importlib import resources
from pathlib import Path

import yaml

from gridwatch.app import Exporter, wait_for_signal
from gridwatch.binaries import free_port, prometheus_binary, prometheus_config, start_prometheus
from gridwatch.config import Config, load_config, parse_config
from gridwatch.sim import bms_demo, homewizard_demo, inverter_demo, outages_demo, prices_demo
from gridwatch.sim.demo_part import DemoPart

log = logging.getLogger(__name__)

PARTS: tuple[DemoPart, ...] = (
    homewizard_demo.demo_part,
    prices_demo.demo_part,
    inverter_demo.demo_part,
    bms_demo.demo_part,
    outages_demo.demo_part,
)


def builtin_config() -> Config:
    text = resources.files("gridwatch").joinpath("demo.yml").read_text(encoding="utf-8")
    return parse_config(yaml.safe_load(text), "<built-in demo config>")


async def main(config_path: Path | None, *, port: int | None, prometheus: bool) -> int:
    base = load_config(config_path) if config_path else builtin_config()
    async with contextlib.AsyncExitStack() as stack:
        config = base
        device_lines: list[str] = []
        for part in PARTS:
            config, lines = await part(config, stack)
            device_lines += lines
        # A fresh state file per demo: the demo's simulated cost must not mix with a real one.
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gridwatch-")))
        exporter_settings = base.exporter.model_copy(
            update={"port": free_port(base.exporter.port if port is None else port)}
        )
        site = config.site.model_copy(update={"data_dir": data_dir})
        config = config.model_copy(update={"exporter": exporter_settings, "site": site})
        exporter = Exporter(config)
        await exporter.start()
        stack.push_async_callback(exporter.stop)

        lines = [
            "",
            "gridwatch demo is running:",
            f"  exporter     {exporter.url}/  ·  {exporter.url}/metrics",
            *device_lines,
        ]
        if prometheus and prometheus_binary():
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="gridwatch-demo-"))
            )
            prom = start_prometheus(
                prometheus_config(exporter_targets=[f"127.0.0.1:{exporter.port}"]), workdir, 9090
            )
            stack.callback(prom.stop)
            lines.append(f"  prometheus   {prom.url}/  (data in {workdir})")
        elif prometheus:
            lines.append("  prometheus   not installed (apt-get install prometheus) — skipped")
        lines += ["Press Ctrl-C to stop.", ""]
        print("\n".join(lines), flush=True)
        await wait_for_signal()
        log.info("stopping demo")
    return 0
