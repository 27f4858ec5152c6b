"""`gridwatch demo`: the exporter against simulated devices, plus Prometheus when installed."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import yaml

from gridwatch.app import Exporter, wait_for_signal
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


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(preferred: int) -> int:
    if _port_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_prometheus(exporter_port: int, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("prometheus")
    assert binary is not None
    port = _free_port(9090)
    rules = Path("prometheus/rules").resolve()
    config = {
        "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
        "scrape_configs": [
            {
                "job_name": "gridwatch",
                "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
            }
        ],
    }
    if rules.is_dir():
        config["rule_files"] = [str(rules / "*.yml")]
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    log_file = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    return process, port


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
            update={"port": _free_port(base.exporter.port if port is None else port)}
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
        if prometheus and shutil.which("prometheus"):
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="gridwatch-demo-"))
            )
            process, prom_port = start_prometheus(exporter.port or 0, workdir)
            stack.callback(_terminate, process)
            lines.append(f"  prometheus   http://127.0.0.1:{prom_port}/  (data in {workdir})")
        elif prometheus:
            lines.append("  prometheus   not installed (apt-get install prometheus) — skipped")
        lines += ["Press Ctrl-C to stop.", ""]
        print("\n".join(lines), flush=True)
        await wait_for_signal()
        log.info("stopping demo")
    return 0


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
