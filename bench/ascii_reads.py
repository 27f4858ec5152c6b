"""ascii_reads: PI30 / PI18 commands, bytes and time per poll, vs one command at a time.

A simulated Voltronic unit (PI30 MAX, PI18) answers on a pseudo-terminal (the RS232 port) and
behind the Eybond dongle simulator. A full poll is what gridwatch asks every interval (PI30:
QPIGS, QPIGS2, QMOD, QPIWS, QPIRI; PI18: GS, MOD, FWS, PIRI); a usual poll leaves the settings
(QPIRI / PIRI) out, read every 30th poll; "one command" is the status query alone (QPIGS / GS),
the least a poll can ask. They alternate poll by poll.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Result, Target
from gridwatch.sim.inverter.ascii_line import AsciiLineSimulator
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sim.inverter.voltronic import VoltronicDevice
from gridwatch.sources.inverter.eybond import EybondSettings
from gridwatch.sources.inverter.protocols.driver import FAMILIES, AsciiDriver, ask
from gridwatch.sources.inverter.transports.eybond import EybondAsciiLink
from gridwatch.sources.inverter.transports.link import AsciiLink
from gridwatch.sources.inverter.transports.serial import SerialLink

POLLS = 29  # < SETTINGS_EVERY: the "usual" polls never re-read the settings
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
    every = AsciiDriver(FAMILIES[family], "bench", settings_every=1)  # settings every poll
    steady = AsciiDriver(FAMILIES[family], "bench")  # as gridwatch polls: settings now and then
    await every.identify(link)
    await steady.poll(link)  # identifies and reads the settings once
    status = FAMILIES[family].poll[0][0]

    async def full() -> None:
        await every.poll(link)

    async def usual() -> None:
        await steady.poll(link)

    async def one() -> None:
        await ask(link, status)

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


async def run(workdir: Path) -> Result:
    result = Result("ascii_reads", datetime.now(UTC).isoformat(timespec="seconds"))
    for family in ("pi30", "pi18"):
        for where, measure in (("serial", _over_pty), ("eybond", _over_dongle)):
            stats = await measure(family)
            label = (
                f"{family.upper()} over {'a pty (RS232)' if where == 'serial' else 'Eybond dongle'}"
            )
            for way, (commands, size, ms) in stats.items():
                what = {
                    "full": "full poll with settings",
                    "usual": "usual poll (settings every 30th)",
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
    ]
    return result
