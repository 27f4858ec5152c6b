"""The inverter source's poll contract: every poll that ends without a reading reports None.

The grid tracker turns a signal unknown only when told the poll failed, so this must hold for
failures no device reports (a bug, the overall timeout), not just for SourceError. The transport
here is a stand-in for such a failure; the wire faults are covered against the simulators in
tests/integration.
"""

from __future__ import annotations

import asyncio

import pytest

from gridwatch.config import parse_config
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.source import InverterSource


class BrokenTransport:
    requests = 0

    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    async def read(self, start: int, count: int) -> list[int]:
        if self.error is None:
            await asyncio.sleep(3600)  # hangs until the overall poll timeout cancels it
        raise self.error  # type: ignore[misc]

    async def close(self) -> None:
        return None

    def describe(self) -> str:
        return "broken"


def source(error: BaseException | None, seen: list[InverterReading | None]) -> InverterSource:
    config = parse_config(
        {"inverters": [{"name": "smg", "transport": "tcp", "host": "127.0.0.1"}]}
    ).inverters[0]
    return InverterSource(
        config,
        transport=BrokenTransport(error),
        on_poll=lambda _name, reading, _at: seen.append(reading),
    )


async def test_an_unexpected_error_reports_the_poll_as_failed() -> None:
    seen: list[InverterReading | None] = []
    with pytest.raises(RuntimeError):
        await source(RuntimeError("bug"), seen).poll()
    assert seen == [None]


async def test_a_poll_cut_off_by_the_overall_timeout_reports_failed() -> None:
    seen: list[InverterReading | None] = []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await source(None, seen).poll()
    assert seen == [None]
