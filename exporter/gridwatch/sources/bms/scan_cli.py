"""`gridwatch scan-bms`: list the BMS packs in range; optionally save them to the devices file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gridwatch.sources.bms.devices_file import DevicesFileError, load_devices, merge, save_devices
from gridwatch.sources.bms.discovery import FoundPack, discover
from gridwatch.sources.bms.errors import classify

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
DEFAULT_DEVICES_FILE = Path("bms-devices.yml")


def _print_found(found: list[FoundPack], duration: float) -> None:
    if not found:
        print(
            f"No BMS found in {duration:g} s. Is the pack switched on, in range, and the phone "
            "app closed (a JK BMS accepts one connection at a time)?"
        )
        return
    print(f"Found {len(found)} BMS device(s):")
    width = max(len(p.local_name) for p in found)
    for p in found:
        print(
            f"  {p.address}  {p.local_name:<{width}}  {p.bms_type:<16} "
            f"{p.description}  (RSSI {p.rssi} dBm)"
        )


def scan_bms(duration: float, adapter: str | None, save: bool, devices_file: Path | None) -> int:
    try:
        found = asyncio.run(discover(duration, adapter))
    except Exception as exc:  # explained the same way the source reports it
        error = classify(exc)
        print(f"Scan failed ({error.reason}): {error.message}", file=sys.stderr)
        return EXIT_FAILED
    _print_found(found, duration)
    if not save:
        if found:
            print("Run again with --save to add them to the devices file.")
        return EXIT_OK
    path = devices_file or DEFAULT_DEVICES_FILE
    try:
        existing = load_devices(path)
    except DevicesFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    merged, added = merge(existing, ((p.address, p.local_name, p.bms_type) for p in found))
    if added:
        save_devices(path, merged)
    print(
        f"{len(added)} new pack(s) saved to {path} ({len(merged)} in total); names already "
        "there were kept. Set batteries.devices_file to this file."
    )
    return EXIT_OK
