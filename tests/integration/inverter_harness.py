"""Shared by the inverter transport tests: exporters polling one simulated inverter "smg", the
fault-and-recovery round, and the real `gridwatch run` process with its /metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from gridwatch.config import parse_config
from gridwatch.sim.polling import wait_until
from tests.helpers import Samples, value
from tests.integration import run_harness
from tests.integration.conftest import Running, exporters_under_test
from tests.integration.run_harness import Metrics

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
    async with exporters_under_test() as run_exporter:

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
            return await run_exporter(config)

        yield run


@contextlib.asynccontextmanager
async def gridwatch_run(
    tmp_path: Path, inverters: list[dict[str, Any]], **config: Any
) -> AsyncIterator[Metrics]:
    """The real `gridwatch run` process with these inverters; yields a fetch of its /metrics."""
    async with run_harness.gridwatch_run(tmp_path, {"inverters": inverters, **config}) as metrics:
        yield metrics


async def metrics_until(metrics: Metrics, holds: Callable[[Samples], bool], what: str) -> Samples:
    """The /metrics of a `gridwatch_run` once ``holds`` is true of it (20 s at most)."""
    last: Samples = {}

    async def check() -> bool:
        nonlocal last
        last = await metrics()
        return bool(last) and holds(last)

    await wait_until(check, what=what, timeout=20)
    return last


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
