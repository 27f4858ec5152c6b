"""Which protocol does this inverter speak? Read-only probes, one per protocol, in a registry.

A probe gets a target (a serial port, a hidraw device, ``host:port`` or an Eybond dongle) and
asks only questions that change nothing (protocol id, serial number, a register read). A hit
says what answered, the model/serial it reported and the config keys that reach it. Another
family's probe is added with one ``PROBES`` entry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.eybond import EybondSettings, EybondTransport
from gridwatch.sources.inverter.modbus import ModbusSettings, PymodbusTransport
from gridwatch.sources.inverter.protocols.driver import FAMILIES, AsciiDriver
from gridwatch.sources.inverter.regmap import decode_register, load_shipped
from gridwatch.sources.inverter.transport import Transport
from gridwatch.sources.inverter.transports.eybond import EybondAsciiLink
from gridwatch.sources.inverter.transports.hid import HidLink
from gridwatch.sources.inverter.transports.link import AsciiLink
from gridwatch.sources.inverter.transports.serial import SerialLink
from gridwatch.sources.inverter.transports.tcp import TcpLink

TargetKind = Literal["serial", "hid", "tcp", "dongle"]


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    address: str  # device path, host:port, or the dongle's host
    timeout: float = 2.0
    listen_port: int = 8899  # dongle: where it connects back
    logger_serial: int | None = None  # tcp: a Solarman V5 stick's serial, when known

    @classmethod
    def parse(cls, text: str, *, dongle: bool, timeout: float, listen_port: int) -> Target:
        if dongle:
            return cls("dongle", text, timeout, listen_port)
        if text.startswith("/dev/hidraw"):
            return cls("hid", text, timeout)
        if text.startswith("/") or text.startswith("COM"):
            return cls("serial", text, timeout)
        if ":" in text:
            return cls("tcp", text, timeout)
        raise ValueError(f"{text!r}: give a device path, host:port, or --dongle HOST")

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        return host.strip("[]"), int(port)


@dataclass(frozen=True, slots=True)
class Found:
    protocol: str  # what answered, e.g. "PI30" or "Modbus RTU (smg_ii map)"
    details: str  # model, serial, firmware as reported
    config: dict[str, Any] = field(default_factory=dict)  # the inverter's config keys


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    kinds: frozenset[TargetKind]
    run: Callable[[Target], Awaitable[Found]]  # raises SourceError when nothing fits


def _where(target: Target) -> dict[str, Any]:
    if target.kind in {"serial", "hid"}:
        return {"transport": target.kind, "device": target.address}
    if target.kind == "dongle":
        return {"transport": "eybond", "host": target.address}
    host, port = target.host_port
    return {"transport": "tcp", "host": host, "port": port}


def _ascii_link(target: Target) -> AsciiLink:
    if target.kind == "hid":
        return HidLink(target.address, target.timeout)
    if target.kind == "dongle":
        return EybondAsciiLink(_dongle(target))
    if target.kind == "tcp":  # a transparent RS232 bridge (EW11, USR-TCP232, ser2net)
        host, port = target.host_port
        return TcpLink(host, port, target.timeout, connect_timeout=target.timeout)
    return SerialLink(target.address, 2400, target.timeout)


def _dongle(target: Target) -> EybondSettings:
    return EybondSettings(
        dongle_host=target.address,
        listen_port=target.listen_port,
        timeout=target.timeout,
        connect_timeout=max(target.timeout, 5.0),
    )


def ascii_probe(family: str) -> Probe:
    async def run(target: Target) -> Found:
        link = _ascii_link(target)
        driver = AsciiDriver(FAMILIES[family], "scan")
        try:
            await driver.identify(link)  # protocol id, serial number, firmware: all read-only
        finally:
            await link.close()
        serial = next((d.text for d in driver.identity if d.spec.metric == "serial_number"), None)
        firmware = next((d.text for d in driver.identity if d.spec.metric == "firmware"), None)
        details = ", ".join(
            part
            for part in (
                f"protocol {driver.protocol_id}",
                f"serial {serial}" if serial else "",
                f"firmware {firmware}" if firmware else "",
            )
            if part
        )
        return Found(
            driver.protocol_id or family.upper(), details, {"protocol": family, **_where(target)}
        )

    return Probe(family, frozenset({"serial", "hid", "dongle", "tcp"}), run)


async def _modbus_smg(target: Target) -> Found:
    regmap = load_shipped("smg_ii")
    spec = regmap.by_name("serial_number")
    assert spec is not None
    tries: list[tuple[str, Transport]] = []
    if target.kind == "dongle":
        tries.append(("eybond", EybondTransport(_dongle(target))))
    elif target.kind == "serial":
        settings = ModbusSettings(
            "serial", device=target.address, timeout=target.timeout, retries=0
        )
        tries.append(("serial", PymodbusTransport(settings)))
    else:
        host, port = target.host_port
        for framing in ("tcp", "rtu_over_tcp"):
            settings = ModbusSettings(
                framing,
                host=host,
                port=port,
                timeout=target.timeout,
                retries=0,
            )
            tries.append((framing, PymodbusTransport(settings)))
    last: SourceError | None = None
    for transport_name, transport in tries:
        try:
            words = await transport.read(spec.address, spec.width)
        except SourceError as exc:
            last = exc
            continue
        finally:
            await transport.close()
        serial = decode_register(spec, dict(enumerate(words, spec.address))).text
        config = {"protocol": "modbus", **_where(target), "transport": transport_name}
        return Found("Modbus RTU (SMG-II family)", f"serial {serial or '(empty)'}", config)
    assert last is not None
    raise last


async def _deye(target: Target) -> Found:
    """A Deye/Sunsynk: behind a Solarman V5 stick on 8899, else over a Modbus TCP gateway or
    a transparent RS485 bridge (deye_probe: read-only)."""
    from gridwatch.sources.inverter import deye_probe  # noqa: PLC0415 (UDP discovery, V5)

    host, port = target.host_port
    if target.logger_serial is not None or port == 8899:
        results = [
            await deye_probe.probe_solarman(
                host, port, target.logger_serial, timeout=target.timeout
            )
        ]
    else:
        results = [
            await deye_probe.probe_deye_modbus(host, port, framing, timeout=target.timeout)
            for framing in ("tcp", "rtu_over_tcp")
        ]
    for result in results:
        if result.model is not None:
            return Found(result.answered, f"serial {result.serial or '(empty)'}", result.config)
    problem = next((r.problem for r in results if r.problem), "no Deye answered")
    raise SourceError("protocol", problem)


# Order matters on a serial line: the ASCII queries first (at 2400 baud), Modbus last (9600);
# PI17 after PI18, whose CRC-framed ^P query a PI17 unit may take for something else. On
# host:port too: a Modbus gateway or Solarman stick ignores the ASCII queries (each costs its
# timeout), whereas Modbus or V5 frames sent first would reach a bridged inverter as noise.
PROBES: list[Probe] = [
    ascii_probe("pi30"),
    ascii_probe("pi18"),
    ascii_probe("pi17"),
    # Deye before the SMG read: it checks the device-type register, so it cannot mistake an SMG.
    Probe("deye", frozenset({"tcp"}), _deye),
    Probe("modbus_smg", frozenset({"serial", "tcp", "dongle"}), _modbus_smg),
]


@dataclass(frozen=True, slots=True)
class Attempt:
    probe: str
    found: Found | None
    error: SourceError | None


async def scan(target: Target, *, stop_at_first: bool = True) -> list[Attempt]:
    attempts: list[Attempt] = []
    for probe in PROBES:
        if target.kind not in probe.kinds:
            continue
        try:
            found = await probe.run(target)
        except SourceError as exc:
            attempts.append(Attempt(probe.name, None, exc))
            continue
        attempts.append(Attempt(probe.name, found, None))
        if stop_at_first:
            break
    return attempts
