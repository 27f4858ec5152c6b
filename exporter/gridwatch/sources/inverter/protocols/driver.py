"""One poll of a Voltronic ASCII inverter: which commands, in which order, decoded how.

Identity (protocol id, serial, firmware) is asked when the link opens and after a failure;
serial and firmware again, with the other slow commands (settings, energy totals), every
``slow_interval`` (the Modbus maps' slow registers' cadence); a command the unit answers with NAK
(QPIGS2 on a plain PI30, QET on any but a MAX) is not asked again, with one log line. Every other
failure fails the poll: a reading is never half old, half new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols import pi17, pi18, pi30
from gridwatch.sources.inverter.protocols.voltronic import reply_text, request
from gridwatch.sources.inverter.regmap import Decoded
from gridwatch.sources.inverter.transports.link import AsciiLink

log = logging.getLogger(__name__)
Decode = Callable[[str], list[Decoded]]


@dataclass(frozen=True, slots=True)
class Command:
    text: str  # as sent (before the framing), e.g. "QPIGS" or "^P005GS"
    decode: Decode
    optional: bool = False  # NAK = this model lacks it: not asked again
    # Changes when someone presses buttons (settings) or slowly (energy totals): asked every
    # ``slow_interval``, its last values kept in between.
    slow: bool = False


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # pi30 | pi18 | pi17: the protocol key of the config
    identify: str  # the command that returns the protocol id
    parse_id: Callable[[str], str]
    accepts: Callable[[str], bool]  # protocol ids this driver reads
    identity: tuple[tuple[str, Decode], ...]  # serial, firmware
    poll: tuple[Command, ...]
    encode: Callable[[str], bytes] = request  # the framing: PI30/PI18 append the CRC, PI17 not
    # What one reply cannot settle alone, from the whole poll (PI17: the battery's sign).
    finish: Callable[[list[Decoded]], list[Decoded]] = lambda values: values

    @property
    def status(self) -> str:
        """The one command a poll cannot do without (the benchmark's "one command")."""
        return self.poll[0].text


PI30 = Family(
    name="pi30",
    identify="QPI",
    parse_id=pi30.protocol_id,
    # PI30 and its relatives that answer the same status queries (PI34 charge controllers NAK
    # QPIGS; they fail the poll with reason nak, which says so).
    accepts=lambda pid: pid in {"PI30", "PI34", "PI41", "PI16"},
    identity=(("QID", pi30.serial_number), ("QVFW", pi30.firmware)),
    poll=(
        Command("QPIGS", pi30.status),
        Command("QPIGS2", pi30.pv2, optional=True),
        Command("QMOD", pi30.mode),
        Command("QPIWS", pi30.warnings),
        Command("QPIRI", pi30.settings, slow=True),
        Command("QET", pi30.total_energy, optional=True, slow=True),
    ),
)


def _caret(mod: ModuleType, status: tuple[tuple[str, Decode], ...], **extra: Any) -> Family:
    """PI18 and PI17: ``^P`` queries; PI, ID and VFW identify; PIRI and ET are slow."""
    name = mod.__name__.rsplit(".", 1)[-1]
    c = mod.command
    return Family(
        name=name,
        identify=c("PI"),
        parse_id=mod.protocol_id,
        accepts=lambda pid: pid == name.upper(),
        identity=((c("ID"), mod.serial_number), (c("VFW"), mod.firmware)),
        poll=(
            *(Command(c(command), decode) for command, decode in status),
            Command(c("PIRI"), mod.settings, slow=True),
            Command(c("ET"), mod.total_energy, optional=True, slow=True),
        ),
        **extra,
    )


PI18 = _caret(pi18, (("GS", pi18.status), ("MOD", pi18.mode), ("FWS", pi18.warnings)))
PI17 = _caret(
    pi17,
    (("GS", pi17.status), ("PS", pi17.power), ("MOD", pi17.mode), ("WS", pi17.warnings)),
    encode=pi17.encode,
    finish=pi17.signed,
)
FAMILIES = {f.name: f for f in (PI30, PI18, PI17)}
# What to suggest when a unit refuses a family's identify command or reports another id.
_OTHER = {"pi30": "pi18 or pi17", "pi18": "pi30 or pi17", "pi17": "pi18 or pi30"}


async def ask(link: AsciiLink, command: str, family: Family | None = None) -> str:
    encode = family.encode if family is not None else request
    return reply_text(await link.exchange(encode(command), command), command)


# Settings change when someone presses buttons, not between polls; at 2400 baud QPIRI's ~100
# bytes cost ~0.4 s of every poll, time the grid signal (QPIGS) should have. The energy total
# moves by a few Wh a poll; a counter read once a minute is enough for any rate. The same
# ``slow_interval`` as the Modbus maps' slow registers.
SLOW_INTERVAL = 60.0


class AsciiDriver:
    def __init__(
        self,
        family: Family,
        name: str,
        *,
        slow_interval: float = SLOW_INTERVAL,
        clock: Clock = system_clock,
    ) -> None:
        self.family = family
        self.name = name  # the inverter's name, for log lines
        self.slow_interval = slow_interval
        self._clock = clock
        self._slow_at: float | None = None  # when the slow commands were last due
        self.protocol_id: str | None = None
        self._identity: list[Decoded] = []
        self._absent: set[str] = set()
        self._slow: dict[str, list[Decoded]] = {}  # slow command → its last values

    @property
    def identity(self) -> list[Decoded]:
        """Serial number and firmware as the unit reported them (after ``identify``)."""
        return list(self._identity)

    def forget_identity(self) -> None:
        """After a failure: identify again and re-read the slow commands (the unit may be
        another)."""
        self.protocol_id = None
        self._identity = []
        self._slow.clear()

    async def identify(self, link: AsciiLink) -> None:
        f = self.family
        try:
            pid = f.parse_id(await ask(link, f.identify, f))
        except SourceError as exc:
            if exc.reason != "nak":
                raise
            raise SourceError(
                "nak",
                f"the inverter answered NAK to {f.identify}: it does not speak {f.name.upper()} "
                f"(try protocol: {_OTHER[f.name]}, or `gridwatch scan-inverter`)",
            ) from None
        if not f.accepts(pid):
            hint = f"; set protocol: {pid.lower()}" if pid.lower() in FAMILIES else ""
            raise SourceError(
                "protocol", f"the inverter reports protocol {pid}, not {f.name.upper()}{hint}"
            )
        self.protocol_id, self._identity = pid, await self._read_identity(link)

    async def _read_identity(self, link: AsciiLink) -> list[Decoded]:
        identity: list[Decoded] = []
        for command, decode in self.family.identity:
            try:
                identity += decode(await ask(link, command, self.family))
            except SourceError as exc:
                if exc.reason != "nak":
                    raise
        return identity

    async def poll(self, link: AsciiLink) -> list[Decoded]:
        now = self._clock()
        due = self._slow_at is None or now - self._slow_at >= self.slow_interval
        if due:
            self._slow_at = now
        if self.protocol_id is None:
            await self.identify(link)
        elif due:
            # Serial and firmware on the slow cadence too: behind a TCP bridge the connection
            # outlives the unit (swapped, or its firmware updated) on the bridge's RS232 side.
            self._identity = await self._read_identity(link)
        values = list(self._identity)
        for command in self.family.poll:
            if command.text in self._absent:
                continue
            if command.slow and not due and command.text in self._slow:
                values += self._slow[command.text]
                continue
            try:
                got = command.decode(await ask(link, command.text, self.family))
            except SourceError as exc:
                if not (command.optional and exc.reason == "nak"):
                    raise
                self._absent.add(command.text)
                log.info(
                    "inverter %s: no %s on this model (NAK); not asked again",
                    self.name,
                    command.text,
                )
                continue
            if command.slow:
                self._slow[command.text] = got
            values += got
        return self.family.finish(values)
