"""Read-only probes for `gridwatch scan-inverter`: a Solarman V5 logger, a Deye over Modbus.

Each probe reads the device-type register (0x0000) and the serial (0x0003–0x0007) with
function 3 — nothing is written — and says what answered, the model and serial it reported and
the config snippet to paste. A Solarman stick needs its own serial in every frame; when it is
not given, the probe asks the stick on UDP 48899 (``WIFIKIT-214028-READ``, answered with
``ip,mac,serial``), the discovery the sticks' own apps use.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Literal

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.modbus import ModbusSettings, PymodbusTransport
from gridwatch.sources.inverter.solarman import SolarmanSettings, SolarmanTransport
from gridwatch.sources.inverter.transport import Transport

DISCOVERY_PORT = 48899
DISCOVERY_MESSAGE = b"WIFIKIT-214028-READ"
# Device type register → (shipped map, what it is); §3.4.
DEVICE_TYPES = {
    3: ("deye_sg0xlp1", "Deye/Sunsynk single-phase hybrid"),
    0x0300: ("deye_sg0xlp1", "Deye/Sunsynk single-phase hybrid"),
    5: ("deye_sg0xlp3", "Deye/Sunsynk LV three-phase hybrid"),
    0x0500: ("deye_sg0xlp3", "Deye/Sunsynk LV three-phase hybrid"),
    6: ("deye_sg01hp3", "Deye HV three-phase hybrid (SG01HP3)"),
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    answered: str  # what answered, in words ("" when nothing did)
    model: str | None = None  # shipped map to use
    serial: str | None = None  # the inverter's serial as it reports it
    snippet: str = ""  # YAML for inverters: (indented as a list item)
    problem: str | None = None  # why the probe found nothing usable
    config: dict[str, object] = field(default_factory=dict)  # the inverter's config keys


class _Udp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        if not self.answer.done():
            self.answer.set_result(data)


async def discover_logger_serial(
    host: str, port: int = DISCOVERY_PORT, timeout: float = 2.0
) -> int | None:
    """The stick's serial from its UDP discovery answer ``ip,mac,serial`` (None: no answer)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Udp, remote_addr=(host, port))
    try:
        transport.sendto(DISCOVERY_MESSAGE)
        with contextlib.suppress(TimeoutError):
            data = await asyncio.wait_for(protocol.answer, timeout)
            parts = data.decode("ascii", errors="replace").strip().split(",")
            if len(parts) >= 3 and parts[2].isdigit():
                return int(parts[2])
        return None
    finally:
        transport.close()


async def _identify(transport: Transport) -> tuple[int, str]:
    try:
        kind = (await transport.read(0x0000, 1))[0]
        words = await transport.read(0x0003, 5)
    finally:
        await transport.close()
    text = b"".join(w.to_bytes(2, "big") for w in words).split(b"\x00")[0]
    return kind, text.decode("ascii", errors="replace").strip()


def _result(what: str, kind: int, serial: str, config: dict[str, object]) -> ProbeResult:
    model, name = DEVICE_TYPES.get(kind, (None, f"device type {kind:#06x}"))
    if model is None:
        return ProbeResult(what, serial=serial, problem=f"{name}: not a Deye hybrid map we ship")
    lines = ["  - name: deye", *(f"    {k}: {v}" for k, v in config.items()), f"    model: {model}"]
    keys = {**config, "model": model}
    return ProbeResult(f"{what}: {name}", model, serial or None, "\n".join(lines), config=keys)


async def probe_solarman(
    host: str,
    port: int = 8899,
    logger_serial: int | None = None,
    timeout: float = 3.0,
    discovery_port: int = DISCOVERY_PORT,
) -> ProbeResult:
    """A Solarman V5 logger stick at host:port, with a Deye behind it."""
    serial = logger_serial or await discover_logger_serial(host, discovery_port, timeout)
    if serial is None:
        return ProbeResult(
            "", problem="no logger serial: give it (on the stick's label) or allow UDP 48899"
        )
    settings = SolarmanSettings(host, serial, port, timeout=timeout, connect_timeout=timeout)
    try:
        kind, inverter_serial = await _identify(SolarmanTransport(settings))
    except SourceError as exc:
        return ProbeResult("", problem=f"{exc.reason}: {exc.message}")
    config: dict[str, object] = {
        "transport": "solarman",
        "host": host,
        "port": port,
        "logger_serial": serial,
    }
    return _result(f"Solarman V5 logger {serial}", kind, inverter_serial, config)


async def probe_deye_modbus(
    host: str,
    port: int = 502,
    framing: Literal["tcp", "rtu_over_tcp"] = "tcp",
    unit: int = 1,
    timeout: float = 3.0,
) -> ProbeResult:
    """A Deye over a Modbus TCP gateway or a transparent RS485 bridge (read-only)."""
    settings = ModbusSettings(framing, host=host, port=port, unit=unit, timeout=timeout, retries=0)
    try:
        kind, serial = await _identify(PymodbusTransport(settings))
    except SourceError as exc:
        return ProbeResult("", problem=f"{exc.reason}: {exc.message}")
    config: dict[str, object] = {"transport": framing, "host": host, "port": port, "unit": unit}
    return _result(f"Modbus ({framing}) unit {unit}", kind, serial, config)
