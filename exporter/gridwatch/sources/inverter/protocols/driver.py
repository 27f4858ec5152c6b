"""One poll of a Voltronic ASCII inverter: which commands, in which order, decoded how.

Identity (protocol id, serial, firmware) is asked once per link and kept; a command the unit
answers with NAK (QPIGS2 on a plain PI30) is not asked again, with one log line. Every other
failure fails the poll: a reading is never half old, half new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols import pi18, pi30
from gridwatch.sources.inverter.protocols.voltronic import reply_text, request
from gridwatch.sources.inverter.regmap import Decoded
from gridwatch.sources.inverter.transports.link import AsciiLink

log = logging.getLogger(__name__)
Decode = Callable[[str], list[Decoded]]


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # pi30 | pi18: the protocol key of the config
    identify: str  # the command that returns the protocol id
    parse_id: Callable[[str], str]
    accepts: Callable[[str], bool]  # protocol ids this driver reads
    identity: tuple[tuple[str, Decode], ...]  # serial, firmware
    poll: tuple[tuple[str, Decode, bool], ...]  # command, decoder, optional (NAK = absent)
    settings: str  # the settings command: asked every ``settings_every`` polls, not every poll


PI30 = Family(
    name="pi30",
    identify="QPI",
    parse_id=pi30.protocol_id,
    # PI30 and its relatives that answer the same status queries (PI34 charge controllers NAK
    # QPIGS; they fail the poll with reason nak, which says so).
    accepts=lambda pid: pid in {"PI30", "PI34", "PI41", "PI16"},
    identity=(("QID", pi30.serial_number), ("QVFW", pi30.firmware)),
    poll=(
        ("QPIGS", pi30.status, False),
        ("QPIGS2", pi30.pv2, True),
        ("QMOD", pi30.mode, False),
        ("QPIWS", pi30.warnings, False),
        ("QPIRI", pi30.settings, False),
    ),
    settings="QPIRI",
)
PI18 = Family(
    name="pi18",
    identify=pi18.command("PI"),
    parse_id=pi18.protocol_id,
    accepts=lambda pid: pid in {"PI18", "PI17"},
    identity=((pi18.command("ID"), pi18.serial_number), (pi18.command("VFW"), pi18.firmware)),
    poll=(
        (pi18.command("GS"), pi18.status, False),
        (pi18.command("MOD"), pi18.mode, False),
        (pi18.command("FWS"), pi18.warnings, False),
        (pi18.command("PIRI"), pi18.settings, False),
    ),
    settings=pi18.command("PIRI"),
)
FAMILIES = {f.name: f for f in (PI30, PI18)}


async def ask(link: AsciiLink, command: str) -> str:
    return reply_text(await link.exchange(request(command), command), command)


# Settings change when someone presses buttons, not between polls; at 2400 baud QPIRI's ~100
# bytes cost ~0.4 s of every poll, time the grid signal (QPIGS) should have.
SETTINGS_EVERY = 30


class AsciiDriver:
    def __init__(self, family: Family, name: str, settings_every: int = SETTINGS_EVERY) -> None:
        self.family = family
        self.name = name  # the inverter's name, for log lines
        self.settings_every = settings_every
        self.protocol_id: str | None = None
        self._identity: list[Decoded] = []
        self._absent: set[str] = set()
        self._settings: list[Decoded] | None = None
        self._polls = 0

    @property
    def identity(self) -> list[Decoded]:
        """Serial number and firmware as the unit reported them (after ``identify``)."""
        return list(self._identity)

    def forget_identity(self) -> None:
        """After a failure: identify again and re-read the settings (the unit may be another)."""
        self.protocol_id = None
        self._identity = []
        self._settings = None

    async def identify(self, link: AsciiLink) -> None:
        f = self.family
        try:
            pid = f.parse_id(await ask(link, f.identify))
        except SourceError as exc:
            if exc.reason != "nak":
                raise
            other = "pi18" if f.name == "pi30" else "pi30"
            raise SourceError(
                "nak",
                f"the inverter answered NAK to {f.identify}: it does not speak {f.name.upper()} "
                f"(try protocol: {other}, or `gridwatch scan-inverter`)",
            ) from None
        if not f.accepts(pid):
            raise SourceError(
                "protocol", f"the inverter reports protocol {pid}, not {f.name.upper()}"
            )
        identity: list[Decoded] = []
        for command, decode in f.identity:
            try:
                identity += decode(await ask(link, command))
            except SourceError as exc:
                if exc.reason != "nak":
                    raise
        self.protocol_id, self._identity = pid, identity

    async def poll(self, link: AsciiLink) -> list[Decoded]:
        if self.protocol_id is None:
            await self.identify(link)
        values = list(self._identity)
        due = self._settings is None or self._polls % self.settings_every == 0
        self._polls += 1
        for command, decode, optional in self.family.poll:
            if command in self._absent:
                continue
            if command == self.family.settings and not due and self._settings is not None:
                values += self._settings
                continue
            try:
                got = decode(await ask(link, command))
                if command == self.family.settings:
                    self._settings = got
                values += got
            except SourceError as exc:
                if not (optional and exc.reason == "nak"):
                    raise
                self._absent.add(command)
                log.info(
                    "inverter %s: no %s on this model (NAK); not asked again", self.name, command
                )
        return values
