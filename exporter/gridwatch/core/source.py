"""What a source is: something that produces readings for one device, by polling or by push."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

# Reasons are label values of gridwatch_source_errors_total, so the set must stay small and stable:
# these are every source's; an area adds the few of its own kind in its ``Area(error_reasons=…)``.
_REASONS = {
    "timeout",
    "connection",
    "tls",
    "unauthorized",
    "forbidden",  # HTTP 403, e.g. an operator that geo-blocks foreign addresses
    "http_error",
    "payload",
    "protocol",
    "internal",
    "crc",  # a frame whose checksum does not match
    "disconnected",  # the peer dropped the connection mid-exchange
    "not_found",  # the device is not in range / not advertising / not at that address
    "no_reply",  # a gateway answered, the device behind it did not
}


def register_reasons(reasons: dict[str, str]) -> None:
    """Allow an area's own reasons (name → what it means, for the docs' sake)."""
    for reason in reasons:
        if not reason.isidentifier() or not reason.islower():
            raise ValueError(f"a source error reason is a lower-case identifier: {reason!r}")
    _REASONS.update(reasons)


def known_reasons() -> frozenset[str]:
    return frozenset(_REASONS)


class SourceError(Exception):
    """A failed read, with a bounded ``reason`` (metric label) and a human message."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in _REASONS:
            raise ValueError(f"unknown source error reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True, slots=True)
class SourceKey:
    source: str  # kind of source, e.g. "homewizard"
    device: str  # configured device name


class Reading(Protocol):
    @property
    def received_at(self) -> float: ...


class SourceContext(Protocol):
    """How a running source reports what happened; implemented by the state store."""

    def success(self, key: SourceKey, reading: Reading, duration: float | None = None) -> None: ...

    def failure(
        self, key: SourceKey, error: SourceError, duration: float | None = None
    ) -> None: ...

    def set_push_connected(self, key: SourceKey, connected: bool) -> None: ...


class Source(Protocol):
    key: SourceKey
    staleness: float

    async def run(self, ctx: SourceContext) -> None:
        """Run until cancelled; report every reading and every failure to ``ctx``."""
        ...


async def poll_forever(
    ctx: SourceContext,
    key: SourceKey,
    poll: Callable[[], Awaitable[Reading]],
    interval: float,
    timeout: float,
    *,
    should_poll: Callable[[], bool] = lambda: True,
) -> None:
    """Call ``poll`` every ``interval`` seconds (fixed rate, no drift) with an overall timeout."""
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        if should_poll():
            started = time.perf_counter()
            try:
                async with asyncio.timeout(timeout):
                    reading = await poll()
            except SourceError as exc:
                ctx.failure(key, exc, time.perf_counter() - started)
            except TimeoutError:
                error = SourceError("timeout", f"no answer within {timeout:g}s")
                ctx.failure(key, error, time.perf_counter() - started)
            else:
                ctx.success(key, reading, time.perf_counter() - started)
        next_at += interval
        now = loop.time()
        if next_at < now:  # we fell behind (slow device): skip missed ticks instead of bursting
            next_at = now + interval - ((now - next_at) % interval)
        await asyncio.sleep(next_at - now)
