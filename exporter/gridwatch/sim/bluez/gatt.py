"""GATT side of the fake BlueZ: the ffe0 service, its ffe1 characteristic, writes, notifications.

A notification is what BlueZ turns it into on D-Bus: a ``PropertiesChanged`` of the
characteristic's ``Value`` (bleak's default StartNotify path). Writes go to the pack model;
its answer is streamed back chunk by chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dbus_fast import Message, Variant

from gridwatch.sim.bluez.jkbms import CHAR_UUID, SERVICE_UUID, JkPack
from gridwatch.sim.bluez.objects import ObjectTree

GATT_SERVICE = "org.bluez.GattService1"
GATT_CHAR = "org.bluez.GattCharacteristic1"
ERROR_FAILED = "org.bluez.Error.Failed"
ERROR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
# What BlueZ answers when the peer rejects an unpaired link (ATT "insufficient authentication").
NOT_PAIRED = "Operation failed with ATT error: 0x05"
NOTIFY_GAP = 0.001  # seconds between notifications; real links pace them 7.5–30 ms apart

# bleak derives the device path by cutting "/serviceXXXX/charYYYY" (21 characters) off.
SERVICE_SUFFIX = "/service000a"
CHAR_SUFFIX = "/char000b"


def service_path(device_path: str) -> str:
    return device_path + SERVICE_SUFFIX


def char_path(device_path: str) -> str:
    return device_path + SERVICE_SUFFIX + CHAR_SUFFIX


def add_gatt_objects(tree: ObjectTree, device_path: str) -> None:
    """What BlueZ publishes after service discovery of a JK module."""
    service = service_path(device_path)
    tree.add(
        service,
        {
            GATT_SERVICE: {
                "UUID": Variant("s", SERVICE_UUID),
                "Device": Variant("o", device_path),
                "Primary": Variant("b", True),
                "Includes": Variant("ao", []),
                "Handle": Variant("q", 0x0A),
            }
        },
    )
    tree.add(
        char_path(device_path),
        {
            GATT_CHAR: {
                "UUID": Variant("s", CHAR_UUID),
                "Service": Variant("o", service),
                "Value": Variant("ay", b""),
                "Notifying": Variant("b", False),
                "Flags": Variant("as", ["read", "write-without-response", "write", "notify"]),
                "MTU": Variant("q", 23),
                "Handle": Variant("q", 0x0B),
            }
        },
    )


class GattServer:
    """Answers characteristic calls for the packs; ``drop_link`` ends a connection."""

    def __init__(
        self,
        tree: ObjectTree,
        pack_of: Callable[[str], JkPack | None],
        is_paired: Callable[[str], bool],
        drop_link: Callable[[str], None],
    ) -> None:
        self._tree = tree
        self._pack_of = pack_of
        self._is_paired = is_paired
        self._drop_link = drop_link
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, msg: Message) -> Message | None:
        path = msg.path or ""
        if msg.interface != GATT_CHAR or path not in self._tree.objects:
            return None
        device_path = path.removesuffix(SERVICE_SUFFIX + CHAR_SUFFIX)
        pack = self._pack_of(device_path)
        if pack is None:
            return Message.new_error(msg, ERROR_FAILED, "Not connected")
        if msg.member in {"AcquireNotify", "AcquireWrite"}:
            return Message.new_error(msg, ERROR_NOT_SUPPORTED, "Operation is not supported")
        if msg.member == "ReadValue":
            return Message.new_method_return(msg, "ay", [self._tree.get(path, GATT_CHAR, "Value")])
        if pack.requires_pairing and not self._is_paired(device_path):
            return Message.new_error(msg, ERROR_FAILED, NOT_PAIRED)
        if msg.member == "StartNotify":
            self._tree.set(path, GATT_CHAR, Notifying=Variant("b", True))
            return Message.new_method_return(msg)
        if msg.member == "StopNotify":
            self._tree.set(path, GATT_CHAR, Notifying=Variant("b", False))
            return Message.new_method_return(msg)
        if msg.member == "WriteValue":
            task = asyncio.get_running_loop().create_task(
                self._answer(pack, device_path, bytes(msg.body[0]))
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return Message.new_method_return(msg)
        return None

    async def _answer(self, pack: JkPack, device_path: str, data: bytes) -> None:
        response = pack.on_write(data)
        path = char_path(device_path)
        for chunk in response.notifications:
            await asyncio.sleep(NOTIFY_GAP)
            if path not in self._tree.objects:
                return  # the link went down meanwhile
            if self._tree.get(path, GATT_CHAR, "Notifying"):
                self._tree.set(path, GATT_CHAR, Value=Variant("ay", chunk))
        if response.disconnect:
            await asyncio.sleep(NOTIFY_GAP)
            self._drop_link(device_path)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
