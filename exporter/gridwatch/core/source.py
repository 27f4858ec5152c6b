"""What a source is: something that produces readings for one device, by polling or by push."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

# Reasons are label values of gridwatch_source_errors_total, so the set must stay small and stable.
REASONS = frozenset(
    {
        "timeout",
        "connection",
        "tls",
        "unauthorized",
        "api_disabled",
        "http_error",
        "payload",
        "protocol",
        "internal",
        "crc",  # a frame whose checksum does not match
        "modbus_exception",  # the device answered with a Modbus exception response
        "nak",  # the device refused a command it does not support (Voltronic "(NAK")
        "bad_model",  # the configured register map reads nonsense from this device
        "no_bluetooth",  # no D-Bus system bus or no BlueZ service
        "no_adapter",  # BlueZ runs but has no (powered) adapter
        "pairing_required",  # the device refuses until it is paired/bonded
        "not_found",  # the device is not in range / not advertising
        "disconnected",  # the peer dropped the connection mid-exchange
        "no_reply",  # a logger/gateway answered, the device behind it did not (a stub payload)
        "forbidden",  # HTTP 403, e.g. an operator that geo-blocks foreign addresses
        "unknown_queue",  # the configured outage queue is not in the operator's list
    }
)


class SourceError(Exception):
    """A failed read, with a bounded ``reason`` (metric label) and a human message."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
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
