"""The devices file: a small YAML list of packs that `scan-bms --save` and rescans maintain.

Users edit it by hand (names above all), so it stays plain YAML with a comment header, and a
rescan only ever appends packs it has not seen: names, types and `enabled: false` survive.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gridwatch.sources.bms.config import BatteryDevice

HEADER = """\
# Bluetooth battery packs for gridwatch (`batteries.devices_file`).
# Written by `gridwatch scan-bms --save` and by periodic rescans, which only ever add packs.
# Rename packs freely (the name is the `battery` label); set `enabled: false` to stop polling
# a pack without a rescan adding it again. type = the aiobmsble module that speaks for it.
"""


class DevicesFileError(Exception):
    """The devices file cannot be read or has invalid entries: names file, entry and problem."""


def load_devices(path: Path) -> list[BatteryDevice]:
    """The packs in ``path``; an absent file is an empty list (nothing scanned yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise DevicesFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DevicesFileError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return []
    entries = data.get("devices") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DevicesFileError(f"{path}: expected a mapping with a `devices:` list")
    devices: list[BatteryDevice] = []
    for index, entry in enumerate(entries):
        try:
            devices.append(BatteryDevice.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
            )
            raise DevicesFileError(f"{path}: devices[{index}]: {problems}") from None
    names = [d.name for d in devices]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise DevicesFileError(f"{path}: battery name(s) used twice: {', '.join(dupes)}")
    return devices


def save_devices(path: Path, devices: Sequence[BatteryDevice]) -> None:
    """Write atomically, so a crash mid-write never leaves half a file."""
    entries: list[dict[str, Any]] = []
    for device in devices:
        entry: dict[str, Any] = {
            "name": device.name,
            "address": device.address,
            "type": device.type,
        }
        if not device.enabled:
            entry["enabled"] = False
        entries.append(entry)
    body = yaml.safe_dump({"devices": entries}, sort_keys=False, allow_unicode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(HEADER + body, encoding="utf-8")
    os.replace(tmp, path)


def slug(text: str) -> str:
    """A label-safe pack name from an advertised name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-.").lower()
    return cleaned[:36] or "battery"


def merge(
    existing: Sequence[BatteryDevice], found: Iterable[tuple[str, str, str]]
) -> tuple[list[BatteryDevice], list[BatteryDevice]]:
    """Append packs (address, advertised name, type) not listed yet; returns (all, added).

    Entries already in the file are kept exactly as they are, whatever a scan says.
    """
    merged = list(existing)
    known = {d.address for d in merged}
    names = {d.name for d in merged}
    added: list[BatteryDevice] = []
    for raw_address, advertised, bms_type in found:
        address = raw_address.upper()
        if address in known:
            continue
        base = slug(advertised or address.replace(":", "")[-6:])
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        device = BatteryDevice(name=name, address=address, type=bms_type)
        merged.append(device)
        added.append(device)
        known.add(address)
        names.add(name)
    return merged, added


def combine(
    configured: Sequence[BatteryDevice], from_file: Sequence[BatteryDevice]
) -> list[BatteryDevice]:
    """Packs to poll: the config's own list, then file entries for other addresses/names."""
    packs = list(configured)
    addresses = {d.address for d in packs}
    names = {d.name for d in packs}
    for device in from_file:
        if device.address not in addresses and device.name not in names:
            packs.append(device)
            addresses.add(device.address)
            names.add(device.name)
    return [d for d in packs if d.enabled]
