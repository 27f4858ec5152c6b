"""``gridwatch discover-tuya``: the app account's devices as a ``receiver.tuya`` config snippet.

The cloud project's credentials list every device of the linked app account in one signed call
(``/v1.0/users/{uid}/devices``); the reply carries each device's local key, which local control
needs. Keys are secrets: by default the snippet points each plug at a key file (written with
``--keys-dir``, mode 0600) and the keys appear on stdout only with ``--show-keys``. Nothing here
logs a reply.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridwatch.receiver.tuya.cloud import CloudError, TuyaCloud
from gridwatch.receiver.tuya.config import TuyaCloudConfig

# Tuya categories that are plugs, power strips and switches (what load shedding switches).
SWITCH_CATEGORIES = {"cz", "pc", "kg", "tdq", "dlq"}


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    name: str  # as in the app
    category: str
    online: bool
    local_key: str

    @property
    def config_name(self) -> str:
        """A plug name the config accepts (letters, digits, ``_.-``; at most 40)."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name).strip("_.-")[:40]
        return slug or self.id


async def list_devices(cloud: TuyaCloudConfig, user_id: str) -> list[Device]:
    client = TuyaCloud(cloud)
    try:
        result = await client.call("GET", f"/v1.0/users/{user_id}/devices")
    finally:
        await client.close()
    items = result.get("devices", []) if isinstance(result, dict) else result
    if not isinstance(items, list):
        raise CloudError("unexpected device list from the Tuya cloud")
    return [_device(d) for d in items if isinstance(d, dict) and d.get("id")]


def _device(item: dict[str, Any]) -> Device:
    return Device(
        id=str(item["id"]),
        name=str(item.get("name") or item["id"]),
        category=str(item.get("category", "")),
        online=bool(item.get("online", False)),
        local_key=str(item.get("local_key", "")),
    )


def select(devices: list[Device], all_categories: bool = False) -> list[Device]:
    """The plugs, strips and switches (or every device), in the cloud's order."""
    return [d for d in devices if all_categories or d.category in SWITCH_CATEGORIES]


def _unique_names(devices: Iterable[Device]) -> list[tuple[str, Device]]:
    seen: dict[str, int] = {}
    named = []
    for device in devices:
        name = device.config_name
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name[:36]}_{seen[name]}", device))
    return named


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def snippet(
    devices: list[Device],
    *,
    show_keys: bool = False,
    keys_dir: Path | None = None,
    shed_group: str | None = None,
    shed_except: Iterable[str] = (),
) -> str:
    """The ``receiver:`` YAML for local control of the account's plugs.

    ``shed_group`` puts every listed device except those named (by app name, config name or id)
    in ``shed_except`` into one group and adds a rule that switches it off on ``GridDown``.
    """
    excluded = set(shed_except)
    lines = ["receiver:", "  tuya:", "    plugs:"]
    shed: list[str] = []
    for name, device in _unique_names(devices):
        state = "online" if device.online else "offline"
        lines += [
            f"      - name: {name}  # {_quote(device.name)}, category {device.category}, {state}",
            "        backend: local",
            f"        device_id: {device.id}",
            "        address: 192.0.2.1  # the plug's LAN address (the cloud knows the public one)",
            '        version: "3.3"  # 3.4 or 3.5 for newer plugs',
        ]
        if not device.local_key:
            lines.append("        # no local key in the cloud's answer: cloud control only")
        elif show_keys:
            lines.append(f"        local_key: {_quote(device.local_key)}")
        else:
            where = (keys_dir or Path("tuya-keys")) / f"{name}.key"
            lines.append(f"        local_key_file: {where}")
        if shed_group is not None and not ({name, device.name, device.id} & excluded):
            lines.append(f"        group: {shed_group}")
            shed.append(name)
    if shed_group is not None:
        lines += [
            "  actions:",
            f"    - match: {{alertname: GridDown}}  # {len(shed)} plugs: all but the excepted",
            f"      groups: [{shed_group}]",
        ]
    return "\n".join(lines) + "\n"


def write_keys(devices: list[Device], keys_dir: Path) -> int:
    """One file per key, readable by the owner only; returns how many were written."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, device in _unique_names(devices):
        if not device.local_key:
            continue
        path = keys_dir / f"{name}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(device.local_key + "\n")
        os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
        written += 1
    return written


def discover(cloud: TuyaCloudConfig, user_id: str) -> list[Device]:
    return asyncio.run(list_devices(cloud, user_id))
