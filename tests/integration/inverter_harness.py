"""Shared by the inverter transport tests: exporters polling one simulated inverter "smg"."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from tests.helpers import Samples, parse_exposition, value
from tests.integration.conftest import Running

INV = {"source": "inverter", "device": "smg"}
Start = Callable[..., Awaitable[Running]]


def errors(s: Samples, reason: str) -> float:
    return value(s, "gridwatch_source_errors_total", **INV, reason=reason) or 0


def up(s: Samples) -> float | None:
    return value(s, "gridwatch_source_up", **INV)


def soc(s: Samples) -> float | None:
    return value(s, "gridwatch_inverter_battery_soc_ratio", inverter="smg")


@contextlib.asynccontextmanager
async def inverter_exporters(tmp_path: Path, *, timeout: str) -> AsyncIterator[Start]:
    """``start(**inverter)`` runs an exporter with one fast-polled inverter; all stop on exit."""
    started: list[Exporter] = []

    async def run(**inverter: Any) -> Running:
        config = parse_config(
            {
                "site": {"data_dir": str(tmp_path)},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
                "inverters": [
                    {
                        "name": "smg",
                        "interval": "0.2s",
                        "timeout": timeout,
                        "retries": 0,
                        **inverter,
                    }
                ],
                "grid": {"consecutive_polls": 2},
            }
        )
        exporter = Exporter(config)
        await exporter.start()
        started.append(exporter)
        return Running(exporter)

    try:
        yield run
    finally:
        for exporter in started:
            await exporter.stop()


Metrics = Callable[[], Awaitable[Samples]]


@contextlib.asynccontextmanager
async def gridwatch_run(
    tmp_path: Path, inverters: list[dict[str, Any]], **config: Any
) -> AsyncIterator[Metrics]:
    """The real `gridwatch run` process with these inverters; yields a fetch of its /metrics.

    On exit it gets SIGTERM and must have logged no traceback."""
    from tests.integration.test_cli import fetch, free_port, gridwatch

    port = free_port()
    path = tmp_path / "gridwatch.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "site": {"data_dir": str(tmp_path)},
                "exporter": {"listen_address": "127.0.0.1", "port": port},
                "inverters": inverters,
                **config,
            }
        )
    )
    proc = await gridwatch("run", "-c", str(path))

    async def metrics() -> Samples:
        text = await fetch(f"http://127.0.0.1:{port}/metrics")
        return parse_exposition(text) if text else {}

    try:
        yield metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
        assert "Traceback" not in stderr.decode()
