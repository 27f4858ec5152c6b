"""A fake BlueZ (``org.bluez``) on a private D-Bus, so the real bleak BlueZ backend can run.

It exposes what bleak uses: adapters (``Adapter1``: discovery with a filter, RemoveDevice),
devices that appear while discovering with their advertisement (name, manufacturer data,
service UUIDs, RSSI), ``Device1`` Connect/Disconnect/Pair, and after connecting the JK GATT
service ffe0 with characteristic ffe1 (bluez_gatt.py). Packs are JK models (jkbms.py).

Start a private bus first (dbus_daemon.PrivateBus) and point clients at it with
``DBUS_SYSTEM_BUS_ADDRESS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from gridwatch.core.tasks import cancel_and_wait
from gridwatch.sim.bluez.gatt import GattServer, add_gatt_objects
from gridwatch.sim.bluez.jkbms import JkPack
from gridwatch.sim.bluez.objects import ObjectTree

log = logging.getLogger(__name__)

BLUEZ = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
ADVERTISE_EVERY = 0.2  # seconds between advertisements of each pack while discovering
CONNECT_FAILURE_DELAY = 0.5  # how long a connect to an absent device takes to fail


def device_path(adapter: str, address: str) -> str:
    return f"{adapter}/dev_{address.upper().replace(':', '_')}"


class FakeBlueZ:
    """The ``org.bluez`` service with ``adapters`` adapters (0 = a host without Bluetooth)."""

    def __init__(self, bus_address: str, *, adapters: int = 1, powered: bool = True) -> None:
        self.bus_address = bus_address
        self.adapter_paths = [f"/org/bluez/hci{i}" for i in range(adapters)]
        self.powered = powered
        self.packs: dict[str, JkPack] = {}  # by device path on the first adapter
        self._bus: MessageBus | None = None
        self._tree: ObjectTree | None = None
        self._gatt: GattServer | None = None
        self._scanners: set[str] = set()  # bus names of clients that called StartDiscovery
        self._advertiser: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        # The most packs connected at the same moment: tests check sequential polling with it.
        self.max_connected = 0

    @property
    def tree(self) -> ObjectTree:
        assert self._tree is not None, "FakeBlueZ.start() first"
        return self._tree

    async def start(self) -> None:
        bus = await MessageBus(bus_address=self.bus_address).connect()
        self._bus = bus
        self._tree = ObjectTree(bus)
        self._gatt = GattServer(self._tree, self._connected_pack, self._is_paired, self._drop_link)
        bus.add_message_handler(self._handle)
        for index, path in enumerate(self.adapter_paths):
            self._tree.add(path, {ADAPTER: self._adapter_props(index)})
        await bus.request_name(BLUEZ)

    async def close(self) -> None:
        await cancel_and_wait(self._advertiser)
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._gatt is not None:
            await self._gatt.close()
        if self._bus is not None:
            self._bus.disconnect()
            with contextlib.suppress(Exception):
                await self._bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
            self._bus = None

    # The simulated world -------------------------------------------------------------------

    def add_pack(self, pack: JkPack) -> str:
        """Put a pack near the first adapter; it is seen once someone discovers."""
        if not self.adapter_paths:
            raise ValueError("a host without adapters cannot see packs")
        path = device_path(self.adapter_paths[0], pack.address)
        self.packs[path] = pack
        return path

    def pack_path(self, pack: JkPack) -> str:
        return device_path(self.adapter_paths[0], pack.address)

    def pair(self, pack: JkPack) -> None:
        """What `bluetoothctl pair` would leave behind: the device object, paired and bonded."""
        path = self.pack_path(pack)
        self._announce(path, pack)
        self.tree.set(path, DEVICE, Paired=Variant("b", True), Bonded=Variant("b", True))

    def connect(self, pack: JkPack) -> None:
        """Leave the pack connected, as BlueZ does after a client crashed while connected."""
        path = self.pack_path(pack)
        self._announce(path, pack)
        self._open_link(path)

    def disconnect(self, pack: JkPack) -> None:
        """The pack drops the link (power loss, interference)."""
        self._drop_link(self.pack_path(pack))

    # Adapter and device objects -----------------------------------------------------------

    def _adapter_props(self, index: int) -> dict[str, Variant]:
        address = f"00:1A:7D:DA:71:{index:02X}"
        return {
            "Address": Variant("s", address),
            "AddressType": Variant("s", "public"),
            "Name": Variant("s", f"gridwatch-sim-{index}"),
            "Alias": Variant("s", f"gridwatch-sim-{index}"),
            "Class": Variant("u", 0),
            "Powered": Variant("b", self.powered),
            "Discoverable": Variant("b", False),
            "Pairable": Variant("b", True),
            "PairableTimeout": Variant("u", 0),
            "DiscoverableTimeout": Variant("u", 180),
            "Discovering": Variant("b", False),
            "UUIDs": Variant("as", []),
            "Modalias": Variant("s", "usb:v1D6Bp0246d0548"),
            "Roles": Variant("as", ["central", "peripheral"]),
        }

    def _device_props(self, path: str, pack: JkPack) -> dict[str, Variant]:
        return {
            "Address": Variant("s", pack.address.upper()),
            "AddressType": Variant("s", "public"),
            "Name": Variant("s", pack.name),
            "Alias": Variant("s", pack.name),
            "Paired": Variant("b", False),
            "Bonded": Variant("b", False),
            "Trusted": Variant("b", False),
            "Blocked": Variant("b", False),
            "LegacyPairing": Variant("b", False),
            "Connected": Variant("b", False),
            "ServicesResolved": Variant("b", False),
            "Adapter": Variant("o", path.rsplit("/", 1)[0]),
            "UUIDs": Variant("as", pack.service_uuids),
            "ManufacturerData": Variant(
                "a{qv}", {pack.manufacturer_id: Variant("ay", pack.manufacturer_data)}
            ),
            "ServiceData": Variant("a{sv}", {}),
            "RSSI": Variant("n", pack.rssi),
        }

    def _announce(self, path: str, pack: JkPack) -> None:
        """One advertisement received: a new device object, or fresh RSSI on a known one."""
        if path not in self.tree.objects:
            self.tree.add(path, {DEVICE: self._device_props(path, pack)})
        else:
            self.tree.set(path, DEVICE, RSSI=Variant("n", pack.rssi))

    async def _advertise(self) -> None:
        while True:
            for path, pack in self.packs.items():
                if pack.in_range and not self._connected_pack(path):
                    self._announce(path, pack)
            await asyncio.sleep(ADVERTISE_EVERY)

    def _connected_pack(self, path: str) -> JkPack | None:
        if path in self.tree.objects and self.tree.get(path, DEVICE, "Connected"):
            return self.packs.get(path)
        return None

    def _is_paired(self, path: str) -> bool:
        return bool(self.tree.get(path, DEVICE, "Paired"))

    def _open_link(self, path: str) -> None:
        if not self.tree.get(path, DEVICE, "Connected"):
            self.tree.set(path, DEVICE, Connected=Variant("b", True))
            connected = sum(1 for p in self.packs if self._connected_pack(p) is not None)
            self.max_connected = max(self.max_connected, connected)
            add_gatt_objects(self.tree, path)
            self.tree.set(path, DEVICE, ServicesResolved=Variant("b", True))

    def _drop_link(self, path: str) -> None:
        if path in self.tree.objects and self.tree.get(path, DEVICE, "Connected"):
            self.tree.remove_tree(path)
            self.tree.set(path, DEVICE, ServicesResolved=Variant("b", False))
            self.tree.set(path, DEVICE, Connected=Variant("b", False))

    # Method calls --------------------------------------------------------------------------

    def _handle(self, msg: Message) -> Message | bool | None:
        if msg.message_type != MessageType.METHOD_CALL:
            return None
        reply: Message | bool | None = self.tree.handle_standard(msg)
        if reply is None and self._gatt is not None:
            reply = self._gatt.handle(msg)
        if reply is None and msg.interface == ADAPTER:
            reply = self._adapter_call(msg)
        if reply is None and msg.interface == DEVICE:
            reply = self._device_call(msg)
        return reply

    def _adapter_call(self, msg: Message) -> Message | None:
        path = msg.path or ""
        if path not in self.adapter_paths:
            return None
        if msg.member == "SetDiscoveryFilter":
            return Message.new_method_return(msg)
        if msg.member == "GetDiscoveryFilters":
            return Message.new_method_return(msg, "as", [["UUIDs", "RSSI", "Transport"]])
        if not self.powered:
            return Message.new_error(msg, "org.bluez.Error.NotReady", "Resource Not Ready")
        if msg.member == "StartDiscovery":
            self._scanners.add(msg.sender or "")
            self.tree.set(path, ADAPTER, Discovering=Variant("b", True))
            if self._advertiser is None and path == self.adapter_paths[0]:
                self._advertiser = asyncio.get_running_loop().create_task(self._advertise())
            return Message.new_method_return(msg)
        if msg.member == "StopDiscovery":
            self._scanners.discard(msg.sender or "")
            if not self._scanners:
                if self._advertiser is not None:
                    self._advertiser.cancel()
                    self._advertiser = None
                self.tree.set(path, ADAPTER, Discovering=Variant("b", False))
            return Message.new_method_return(msg)
        if msg.member == "RemoveDevice":
            self._drop_link(msg.body[0])
            self.tree.remove(msg.body[0])
            return Message.new_method_return(msg)
        return None

    def _device_call(self, msg: Message) -> Message | bool | None:
        path = msg.path or ""
        if path not in self.tree.objects or DEVICE not in self.tree.objects[path]:
            return Message.new_error(
                msg, "org.freedesktop.DBus.Error.UnknownObject", f"no object {path}"
            )
        pack = self.packs.get(path)
        if pack is None:
            return None
        if msg.member == "Connect":
            if not pack.in_range:
                self._reply_later(msg, CONNECT_FAILURE_DELAY, "Software caused connection abort")
                return True
            self._open_link(path)
            return Message.new_method_return(msg)
        if msg.member == "Disconnect":
            self._drop_link(path)
            return Message.new_method_return(msg)
        if msg.member == "Pair":
            if pack.requires_pairing:  # nobody is there to type the passkey
                return Message.new_error(
                    msg, "org.bluez.Error.AuthenticationFailed", "Authentication Failed"
                )
            self.tree.set(path, DEVICE, Paired=Variant("b", True), Bonded=Variant("b", True))
            return Message.new_method_return(msg)
        if msg.member == "CancelPairing":
            return Message.new_method_return(msg)
        return None

    def _reply_later(self, msg: Message, delay: float, error: str) -> None:
        async def reply() -> None:
            await asyncio.sleep(delay)
            if self._bus is not None:
                self._bus.send(Message.new_error(msg, "org.bluez.Error.Failed", error))

        task = asyncio.get_running_loop().create_task(reply())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
