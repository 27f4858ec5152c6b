"""The real `gridwatch run` process against simulated peers: written config in, exposition out."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

from gridwatch.sim.polling import wait_until
from tests.helpers import Samples, parse_exposition

Metrics = Callable[[], Awaitable[Samples]]


@contextlib.asynccontextmanager
async def gridwatch_run(tmp_path: Path, sections: dict[str, Any]) -> AsyncIterator[Metrics]:
    """The real `gridwatch run` process with these config sections; yields a fetch of its
    /metrics. On exit it gets SIGTERM and must have logged no traceback."""
    from tests.integration.test_cli import fetch, free_port, gridwatch

    port = free_port()
    config = tmp_path / "gridwatch.yml"
    site = {"data_dir": str(tmp_path), **sections.get("site", {})}
    exporter = {"listen_address": "127.0.0.1", "port": port}
    config.write_text(yaml.safe_dump({**sections, "site": site, "exporter": exporter}))
    proc = await gridwatch("run", "-c", str(config))

    async def metrics() -> Samples:
        text = await fetch(f"http://127.0.0.1:{port}/metrics")
        return parse_exposition(text) if text else {}

    try:
        yield metrics
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
        assert "Traceback" not in stderr.decode()


async def gridwatch_run_until(
    tmp_path: Path,
    sections: dict[str, Any],
    ready: Callable[[Samples], bool],
    *,
    what: str,
    timeout: float = 30.0,
) -> Samples:
    """`gridwatch run` with these config sections until ``ready`` holds for its /metrics; that
    exposition."""
    samples: Samples = {}
    async with gridwatch_run(tmp_path, sections) as metrics:

        async def holds() -> bool:
            nonlocal samples
            samples = await metrics()
            return bool(samples) and ready(samples)

        await wait_until(holds, what=what, timeout=timeout)
    return samples
