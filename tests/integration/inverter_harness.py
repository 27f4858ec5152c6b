"""Shared by the inverter transport tests: exporters polling one simulated inverter "smg", the
fault-and-recovery round, and the real `gridwatch run` process with its /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.sim.polling import wait_until
from tests.helpers import Samples, parse_exposition, value
from tests.integration.conftest import Running
from tests.integration.test_cli import fetch, gridwatch

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


async def each_fault_recovers(
    gw: Running, device: object, faults: Sequence[tuple[str, str]], *, until_stale: bool = False
) -> None:
    """Switch each fault attribute of ``device`` on: the source goes down with ``reason``
    (and, ``until_stale``, its values go once stale); off: it comes back."""
    for fault, reason in faults:
        setattr(device, fault, True)

        def failed(s: Samples, reason: str = reason) -> bool:
            return errors(s, reason) >= 1

        s = await gw.wait_for(f"{fault} → {reason}", failed)
        assert up(s) == 0
        if until_stale:  # the last values are never exported as current
            await gw.wait_for(f"{fault}: no stale value", lambda s: soc(s) is None)
        setattr(device, fault, False)
        await gw.wait_for(f"recovery after {fault}", lambda s: up(s) == 1)


def run_config(tmp_path: Path, port: int, *inverters: dict[str, Any], **sections: Any) -> Path:
    """A config file for `gridwatch run`: these inverters, polled every 0.2 s, metrics on
    ``port``, and any other top-level ``sections`` (e.g. ``grid``)."""
    fast = {"interval": "0.2s", "timeout": "2s"}
    config = {
        "site": {"data_dir": str(tmp_path)},
        "exporter": {"listen_address": "127.0.0.1", "port": port},
        "inverters": [fast | inverter for inverter in inverters],
        **sections,
    }
    path = tmp_path / "gridwatch.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class RunLog:
    """What `gridwatch run` wrote to stderr and how it ended (after the block)."""

    text = ""
    returncode: int | None = None


@contextlib.asynccontextmanager
async def gridwatch_run(config: Path) -> AsyncIterator[RunLog]:
    """The real `gridwatch run -c config` process; SIGTERM at the end of the block."""
    proc = await gridwatch("run", "-c", str(config))
    log = RunLog()
    try:
        yield log
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
        log.text, log.returncode = stderr.decode(), proc.returncode
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def metrics_until(port: int, holds: Callable[[Samples], bool], what: str) -> Samples:
    """/metrics of the exporter on ``port`` once ``holds`` is true of it (20 s at most)."""
    last: Samples = {}

    async def check() -> bool:
        nonlocal last
        text = await fetch(f"http://127.0.0.1:{port}/metrics")
        last = parse_exposition(text) if text is not None else {}
        return holds(last)

    await wait_until(check, what=what, timeout=20)
    return last
