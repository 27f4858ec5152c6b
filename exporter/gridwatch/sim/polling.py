"""Waiting for another party's state: the one polling loop of the simulators, tests and benchmarks.

Use it only where there is nothing to await (another process's counters, a peer's HTTP state);
the timeout guards against a hang and measures nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]],
    *,
    what: str = "condition",
    timeout: float = 20.0,
    every: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """Check ``predicate`` (plain or async) every ``every`` seconds until it holds; return
    ``clock()`` at that moment. After ``timeout`` seconds it fails as a test assertion would."""
    deadline = time.monotonic() + timeout
    while True:
        held = predicate()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return clock()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(every)
