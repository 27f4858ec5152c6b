"""ascii_reads: PI30 / PI18 / PI17 commands, bytes and time per poll, vs one command at a time.

A simulated Voltronic unit (PI30 MAX, PI18, three-phase PI17) answers on a pseudo-terminal (the
RS232 port), behind the Eybond dongle simulator (PI30, PI18) and behind a transparent RS232-to-
TCP bridge (PI30, PI17). A full poll is everything gridwatch reads (PI30: QPIGS, QPIGS2, QMOD,
QPIWS, QPIRI, QET; PI18: GS, MOD, FWS, PIRI, ET; PI17: GS, PS, MOD, WS, PIRI, ET); a usual poll
leaves the slow commands (settings, energy total) out, read once a `slow_interval`; "one command" is
the status query alone (QPIGS / GS), the least a poll can ask. They alternate poll by poll.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Result, Target
from gridwatch.sim.inverter.ascii_line import AsciiLineSimulator
from gridwatch.sim.inverter.ascii_tcp import AsciiTcpBridgeSimulator
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sim.inverter.voltronic import VoltronicDevice
from gridwatch.sources.inverter.eybond import EybondSettings
from gridwatch.sources.inverter.protocols.driver import FAMILIES, AsciiDriver, ask
from gridwatch.sources.inverter.transports.eybond import EybondAsciiLink
from gridwatch.sources.inverter.transports.link import AsciiLink
from gridwatch.sources.inverter.transports.serial import SerialLink
from gridwatch.sources.inverter.transports.tcp import TcpLink

POLLS = 29  # in well under SLOW_INTERVAL: the "usual" polls never re-read the settings
WARMUP = 3
BAUD_BYTES_PER_S = 2400 / 10  # 8N1: 10 bits on the wire per byte
MAX_COMMANDS = 4  # a usual poll asks at most this many commands


class CountingLink:
    """Counts the bytes each exchange puts on the line (request and reply)."""

    def __init__(self, link: AsciiLink) -> None:
        self.link = link
        self.bytes = 0
        self.requests = 0

    async def exchange(self, request: bytes, command: str) -> bytes:
        reply = await self.link.exchange(request, command)
        self.requests += 1
        self.bytes += len(request) + len(reply)
        return reply

    async def close(self) -> None:
        await self.link.close()

    def describe(self) -> str:
        return self.link.describe()


async def _measure(family: str, link: CountingLink) -> dict[str, tuple[int, int, float]]:
    """Per way: (commands per poll, bytes per poll, median poll time in ms)."""
    every = AsciiDriver(FAMILIES[family], "bench", slow_interval=0)  # settings every poll
    steady = AsciiDriver(FAMILIES[family], "bench")  # as gridwatch polls: settings now and then
    await every.identify(link)
    await steady.poll(link)  # identifies and reads the settings once
    status = FAMILIES[family].status

    async def full() -> None:
        await every.poll(link)

    async def usual() -> None:
        await steady.poll(link)

    async def one() -> None:
        await ask(link, status, FAMILIES[family])

    ways = {"full": full, "usual": usual, "one": one}
    times: dict[str, list[float]] = {w: [] for w in ways}
    counts: dict[str, tuple[int, int]] = {}
    for round_ in range(WARMUP + POLLS):
        for name in list(ways) if round_ % 2 == 0 else list(reversed(ways)):  # interleaved
            before, bytes_before = link.requests, link.bytes
            started = time.perf_counter()
            await ways[name]()
            elapsed = time.perf_counter() - started
            counts[name] = (link.requests - before, link.bytes - bytes_before)
            if round_ >= WARMUP:
                times[name].append(elapsed * 1000)
    return {w: (*counts[w], statistics.median(times[w])) for w in ways}


async def _over_pty(family: str) -> dict[str, tuple[int, int, float]]:
    async with AsciiLineSimulator(VoltronicDevice(family, max_model=True)) as line:
        link = CountingLink(SerialLink(line.path, 2400, 2.0))
        try:
            return await _measure(family, link)
        finally:
            await link.close()


async def _over_dongle(family: str) -> dict[str, tuple[int, int, float]]:
    async with EybondDongleSimulator(VoltronicDevice(family, max_model=True)) as dongle:
        settings = EybondSettings(
            dongle_host="127.0.0.1",
            dongle_port=dongle.udp_port or 0,
            listen_host="127.0.0.1",
            listen_port=0,
            idle_timeout=3600,
        )
        link = CountingLink(EybondAsciiLink(settings))
        try:
            return await _measure(family, link)
        finally:
            await link.close()


async def _over_bridge(family: str) -> dict[str, tuple[int, int, float]]:
    async with AsciiTcpBridgeSimulator(VoltronicDevice(family, max_model=True)) as bridge:
        link = CountingLink(TcpLink("127.0.0.1", bridge.port, 2.0))
        try:
            return await _measure(family, link)
        finally:
            await link.close()


Measure = Callable[[str], Awaitable[dict[str, tuple[int, int, float]]]]
WAYS: dict[str, tuple[str, Measure]] = {
    "serial": ("a pty (RS232)", _over_pty),
    "eybond": ("Eybond dongle", _over_dongle),
    "tcp": ("a TCP bridge (EW11/ser2net)", _over_bridge),
}
RUNS = (
    ("pi30", "serial"),
    ("pi30", "eybond"),
    ("pi30", "tcp"),
    ("pi18", "serial"),
    ("pi18", "eybond"),
    ("pi17", "serial"),
    ("pi17", "tcp"),
)


async def run(workdir: Path) -> Result:
    result = Result("ascii_reads", datetime.now(UTC).isoformat(timespec="seconds"))
    for family, where in RUNS:
        name, measure = WAYS[where]
        stats = await measure(family)
        label = f"{family.upper()} over {name}"
        for way, (commands, size, ms) in stats.items():
            what = {
                "full": "full poll with the slow commands",
                "usual": "usual poll (slow commands every 30th)",
                "one": "status command alone",
            }[way]
            key = f"{family}_{where}_{way}"
            result.measure(f"{key}_commands", f"{label}: commands, {what}", commands)
            result.measure(f"{key}_bytes", f"{label}: bytes on the line, {what}", size, "B")
            result.measure(f"{key}_poll_ms", f"{label}: median time, {what}", ms, "ms")
            if where == "serial":
                wire = 1000 * size / BAUD_BYTES_PER_S
                result.measure(
                    f"{key}_wire_ms", f"{family.upper()}: time on a 2400-baud line, {what}",
                    wire, "ms",
                )  # fmt: skip
        if where == "serial":
            result.targets.append(
                Target(
                    f"{family}_commands_per_poll",
                    f"{family.upper()}: commands per usual poll",
                    stats["usual"][0],
                    "<=",
                    MAX_COMMANDS,
                    "",
                )
            )
    result.notes += [
        f"Median of {POLLS} polls per way after {WARMUP} warm-up polls, alternating. A pty has "
        "no baud rate: the wire time at 2400 baud 8N1 (10 bits per byte) is computed from the "
        "bytes, and is what a real RS232 poll costs (plus the unit's own reply delay).",
        "ASCII commands cannot be batched: a full poll is one command per kind of data; the "
        "identity (QPI, QID, QVFW) is asked once per connection, not per poll.",
        "The TCP bridge adds no bytes (transparent mode): the bytes per poll are the serial "
        "line's, and the bridge's own 2400-baud leg to the inverter costs the same wire time.",
    ]
    return result
