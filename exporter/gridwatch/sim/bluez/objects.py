"""The D-Bus object tree of the fake BlueZ: properties, ObjectManager and their signals.

Only what bleak reads is implemented: ``GetManagedObjects`` on ``/``, ``InterfacesAdded`` /
``InterfacesRemoved`` and ``PropertiesChanged`` signals, and ``org.freedesktop.DBus.Properties``
Get/GetAll/Set. Method calls of the BlueZ interfaces are dispatched by the service (bluez.py).
"""

from __future__ import annotations

from typing import Any

from dbus_fast import Message, Variant
from dbus_fast.aio import MessageBus

OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"

Props = dict[str, Variant]


class ObjectTree:
    """Objects by path, each a dict of interface → properties, mirrored onto the bus."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.objects: dict[str, dict[str, Props]] = {}

    def add(self, path: str, interfaces: dict[str, Props]) -> None:
        self.objects.setdefault(path, {}).update(interfaces)
        self._signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [path, interfaces])

    def remove(self, path: str) -> None:
        interfaces = self.objects.pop(path, None)
        if interfaces is not None:
            self._signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [path, list(interfaces)])

    def remove_tree(self, prefix: str) -> None:
        """Remove every object below ``prefix`` (deepest first, as BlueZ does)."""
        for path in sorted(self.objects, key=len, reverse=True):
            if path.startswith(prefix + "/"):
                self.remove(path)

    def get(self, path: str, interface: str, name: str) -> Any:
        return self.objects[path][interface][name].value

    def set(self, path: str, interface: str, **changes: Variant) -> None:
        """Update properties and announce the change, skipping values that did not change."""
        props = self.objects[path][interface]
        changed = {
            k: v
            for k, v in changes.items()
            if k not in props or props[k].value != v.value or k in {"Value", "RSSI"}
        }
        if not changed:
            return
        props.update(changed)
        self._signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [interface, changed, []])

    def _signal(self, path: str, interface: str, member: str, sig: str, body: list[Any]) -> None:
        self.bus.send(Message.new_signal(path, interface, member, sig, body))

    # Standard interfaces -------------------------------------------------------------------

    def handle_standard(self, msg: Message) -> Message | None:
        """Answer ObjectManager and Properties calls; None when the call is not one of them."""
        if msg.interface == OBJECT_MANAGER and msg.member == "GetManagedObjects":
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self.objects])
        if msg.interface != PROPERTIES:
            return None
        props = self.objects.get(msg.path or "", {}).get(msg.body[0]) if msg.body else None
        if props is None:
            return Message.new_error(
                msg, "org.freedesktop.DBus.Error.UnknownInterface", "no such interface"
            )
        if msg.member == "GetAll":
            return Message.new_method_return(msg, "a{sv}", [props])
        if msg.member == "Get":
            if msg.body[1] not in props:
                return Message.new_error(
                    msg, "org.freedesktop.DBus.Error.InvalidArgs", "no such property"
                )
            return Message.new_method_return(msg, "v", [props[msg.body[1]]])
        if msg.member == "Set":
            interface, name, value = msg.body
            self.set(msg.path or "", interface, **{name: value})
            return Message.new_method_return(msg)
        return None
