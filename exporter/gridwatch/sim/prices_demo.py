"""Demo part for this area (see gridwatch.sim.demo_part): starts its simulators."""

from __future__ import annotations

import contextlib

from gridwatch.config import Config


async def demo_part(config: Config, stack: contextlib.AsyncExitStack) -> tuple[Config, list[str]]:
    return config, []
