"""Finding packs: a discovery scan matched against every BMS family aiobmsble knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiobmsble.basebms import BaseBMS  # type: ignore[import-untyped]
from aiobmsble.utils import bms_cls, bms_identify  # type: ignore[import-untyped]
from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak_retry_connector import get_device

from gridwatch.core.source import SourceError


@dataclass(frozen=True, slots=True)
class FoundPack:
    address: str
    local_name: str
    bms_type: str  # aiobmsble module name, e.g. jikong_bms
    description: str  # aiobmsble's "manufacturer model"
    rssi: int


def bms_type_of(cls: type[BaseBMS]) -> str:
    return str(cls.get_bms_module()).rsplit(".", 1)[-1]


def _scanner_args(adapter: str | None) -> dict[str, Any]:
    return {"bluez": {"adapter": adapter}} if adapter else {}


async def discover(duration: float, adapter: str | None = None) -> list[FoundPack]:
    """Every advertising device that an aiobmsble class claims, strongest signal first."""
    seen = await BleakScanner.discover(timeout=duration, return_adv=True, **_scanner_args(adapter))
    found: list[FoundPack] = []
    for device, advertisement in seen.values():
        cls = await bms_identify(advertisement, device.address)
        if cls is None:
            continue
        found.append(
            FoundPack(
                address=device.address.upper(),
                local_name=advertisement.local_name or device.name or "",
                bms_type=bms_type_of(cls),
                description=cls.bms_id(),
                rssi=advertisement.rssi,
            )
        )
    return sorted(found, key=lambda p: (-p.rssi, p.address))


async def find_device(address: str, timeout: float, adapter: str | None = None) -> BLEDevice:
    """The pack's BLE device from its advertisement; not_found when it is not advertising."""
    device = await BleakScanner.find_device_by_address(
        address, timeout=timeout, **_scanner_args(adapter)
    )
    if device is not None:
        return device
    # A pack still connected (e.g. left so by a previous run: BlueZ keeps the links of clients
    # that died) does not advertise; BlueZ knows it, so take it from there. Asked only after
    # the scan, which is what fails first on a host without D-Bus.
    known = await get_device(address)
    if known is not None and _connected(known):
        return known
    raise SourceError(
        "not_found",
        f"{address} not seen within {timeout:g}s: out of range, switched off, or "
        "connected to another app (a JK BMS accepts one connection at a time)",
    )


def _connected(device: BLEDevice) -> bool:
    details = device.details
    return isinstance(details, dict) and bool(details.get("props", {}).get("Connected"))


async def bms_class(bms_type: str) -> type[BaseBMS]:
    cls: type[BaseBMS] | None = await bms_cls(bms_type)
    if cls is None:  # config validation checks this too; a removed plugin lands here
        raise SourceError("internal", f"aiobmsble has no BMS type {bms_type!r}")
    return cls
