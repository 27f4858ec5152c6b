"""DSMR telegrams (the P1/HAN port's own format) into the same P1Reading the HomeWizard API gives.

dsmr-parser does the parsing and the CRC check; this module frames the byte stream into
telegrams (so a truncated one is noticed, not silently merged) and maps dsmr-parser's objects
onto our reading. Lines the dialect does not know are ignored by dsmr-parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from dsmr_parser import telegram_specifications
from dsmr_parser.exceptions import InvalidChecksumError, ParseError
from dsmr_parser.parsers import TelegramParser

from gridwatch.sources.homewizard.config import DSMR_DIALECTS
from gridwatch.sources.homewizard.reading import PHASES, ExternalMeter, P1Reading, PhaseValues

MAX_TELEGRAM = 16 * 1024  # a DSMR 5 telegram is under 2 kB; more without an end is garbage
_END = re.compile(r"![0-9A-Fa-f]{0,4}\r?\n")
# M-Bus device types (EN 13757-3) that carry a meter we export.
_MBUS_TYPES = {3: "gas_meter", 4: "heat_meter", 6: "warm_water_meter", 7: "water_meter",
               12: "inlet_heat_meter"}  # fmt: skip


class TelegramError(ValueError):
    """A telegram that cannot be used; ``reason`` is ``crc`` or ``payload``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Framer:
    """Cuts a stream (arriving in arbitrary pieces) into whole telegrams ``/`` … ``!CRC``."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> Iterator[str | TelegramError]:
        self._buffer += text
        while True:
            start = self._buffer.find("/")
            if start < 0:
                self._buffer = ""
                return
            end = _END.search(self._buffer, start)
            restart = self._buffer.find("/", start + 1, end.start() if end else None)
            if restart >= 0:  # a new telegram began before this one ended
                self._buffer = self._buffer[restart:]
                yield TelegramError("payload", "truncated telegram (a new one began before '!')")
                continue
            if end is None:
                self._buffer = self._buffer[start:]
                if len(self._buffer) > MAX_TELEGRAM:
                    self._buffer = ""
                    yield TelegramError("payload", f"no telegram end within {MAX_TELEGRAM} bytes")
                return
            telegram = self._buffer[start : end.end()]
            self._buffer = self._buffer[end.end() :]
            yield telegram


class DsmrParser:
    def __init__(self, dialect: str) -> None:
        spec = getattr(telegram_specifications, DSMR_DIALECTS[dialect])
        self._parser = TelegramParser(spec, apply_checksum_validation=True)
        self._checksums = bool(spec["checksum_support"])

    def parse(self, telegram: str, *, received_at: float) -> P1Reading:
        if self._checksums and not re.search(r"![0-9A-Fa-f]{4}\r?\n$", telegram):
            raise TelegramError("crc", "telegram without a CRC where the dialect requires one")
        try:
            parsed = self._parser.parse(telegram, throw_ex=True)
        except InvalidChecksumError as exc:
            raise TelegramError("crc", str(exc)) from None
        except (ParseError, ValueError, TypeError, IndexError) as exc:
            raise TelegramError("payload", f"unparsable telegram: {exc}") from None
        objects = {name: obj for name, obj in parsed}  # Telegram iterates (name, object) pairs
        return to_reading(objects, received_at=received_at)


def _num(objects: dict[str, Any], name: str, scale: float = 1.0) -> float | None:
    obj = objects.get(name)
    value = getattr(obj, "value", None)
    return float(value) * scale if isinstance(value, Decimal | int | float) else None


def _text(objects: dict[str, Any], name: str) -> str | None:
    value = getattr(objects.get(name), "value", None)
    return value if isinstance(value, str) and value else None


def _time(value: object) -> float | None:
    # dsmr-parser resolves the telegram's S/W (summer/winter) flag: no DST ambiguity here.
    return value.timestamp() if isinstance(value, datetime) else None


def _energy(o: dict[str, Any], used: str) -> tuple[float | None, dict[int, float]]:
    tariffs = {
        t: v for t in (1, 2, 3, 4) if (v := _num(o, f"ELECTRICITY_{used}_TARIFF_{t}")) is not None
    }
    total_name = "ELECTRICITY_IMPORTED_TOTAL" if used == "USED" else "ELECTRICITY_EXPORTED_TOTAL"
    total = _num(o, total_name)
    if total is None and tariffs:
        total = sum(tariffs.values())
    return total, tariffs


def _phases(o: dict[str, Any]) -> dict[str, PhaseValues]:
    phases = {}
    for n, phase in enumerate(PHASES, start=1):
        plus = _num(o, f"INSTANTANEOUS_ACTIVE_POWER_L{n}_POSITIVE", 1000)
        minus = _num(o, f"INSTANTANEOUS_ACTIVE_POWER_L{n}_NEGATIVE", 1000)
        power = None if plus is None and minus is None else (plus or 0.0) - (minus or 0.0)
        current = _num(o, f"INSTANTANEOUS_CURRENT_L{n}")
        if power is not None and current is not None and power < 0:
            current = -abs(current)  # telegrams carry unsigned amps; sign them like the power
        values = PhaseValues(
            power,
            _num(o, f"INSTANTANEOUS_VOLTAGE_L{n}"),
            current,
            _num(o, f"VOLTAGE_SAG_L{n}_COUNT"),
            _num(o, f"VOLTAGE_SWELL_L{n}_COUNT"),
        )
        if values != PhaseValues():
            phases[phase] = values
    return phases


def _externals(o: dict[str, Any]) -> tuple[ExternalMeter, ...]:
    meters = []
    for device in o.get("MBUS_DEVICES") or []:
        fields = dict(device)
        kind = _MBUS_TYPES.get(getattr(fields.get("MBUS_DEVICE_TYPE"), "value", None) or 0)
        reading = fields.get("MBUS_METER_READING")
        value = getattr(reading, "value", None)
        if kind is None or not isinstance(value, Decimal):
            continue
        ident = getattr(fields.get("MBUS_EQUIPMENT_IDENTIFIER"), "value", "")
        meters.append(
            ExternalMeter(
                unique_id=ident if isinstance(ident, str) else "",
                type=kind,
                value=float(value),
                unit=str(getattr(reading, "unit", "") or ""),
                timestamp=_time(getattr(reading, "datetime", None)),
            )
        )
    return tuple(meters)


def to_reading(o: dict[str, Any], *, received_at: float) -> P1Reading:
    usage = _num(o, "CURRENT_ELECTRICITY_USAGE", 1000)
    delivery = _num(o, "CURRENT_ELECTRICITY_DELIVERY", 1000)
    power = None if usage is None and delivery is None else (usage or 0.0) - (delivery or 0.0)
    imported, import_tariffs = _energy(o, "USED")
    exported, export_tariffs = _energy(o, "DELIVERED")
    tariff = _text(o, "ELECTRICITY_ACTIVE_TARIFF")
    version = _text(o, "P1_MESSAGE_HEADER")
    peak = o.get("BELGIUM_MAXIMUM_DEMAND_MONTH")
    peak_values = getattr(peak, "values", None) or []
    peak_at = _time(peak_values[0].get("value")) if len(peak_values) == 2 else None
    peak_kw = peak_values[1].get("value") if len(peak_values) == 2 else None
    phases = _phases(o)
    currents = [abs(v.current_a) for v in phases.values() if v.current_a is not None]
    return P1Reading(
        received_at=received_at,
        api="dsmr",
        transport="push",
        unique_id=_text(o, "EQUIPMENT_IDENTIFIER") or _text(o, "BELGIUM_EQUIPMENT_IDENTIFIER"),
        protocol_version=int(version) if version and version.isdigit() else None,
        meter_timestamp=_time(getattr(o.get("P1_MESSAGE_TIMESTAMP"), "value", None)),
        tariff=int(tariff) if tariff and tariff.isdigit() and int(tariff) in (1, 2, 3, 4) else None,
        power_w=power,
        current_a=sum(currents) if currents else None,
        phases=phases,
        energy_import_kwh=imported,
        energy_export_kwh=exported,
        import_tariffs_kwh=import_tariffs,
        export_tariffs_kwh=export_tariffs,
        any_power_fail_count=_num(o, "SHORT_POWER_FAILURE_COUNT"),
        long_power_fail_count=_num(o, "LONG_POWER_FAILURE_COUNT"),
        average_power_15m_w=_num(o, "BELGIUM_CURRENT_AVERAGE_DEMAND", 1000),
        monthly_power_peak_w=float(peak_kw) * 1000 if isinstance(peak_kw, Decimal) else None,
        monthly_power_peak_timestamp=peak_at,
        external=_externals(o),
    )
