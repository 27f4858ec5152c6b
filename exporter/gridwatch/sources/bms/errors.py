"""Turn what bleak, dbus-fast and aiobmsble raise into one SourceError with a clear reason."""

from __future__ import annotations

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
    BleakGATTProtocolErrorCode,
)
from bleak_retry_connector import BleakNotFoundError

from gridwatch.core.source import SourceError
from gridwatch.sources.bms.wirelog import WireLog

NO_DBUS = (
    "no D-Bus system bus ({detail}); Bluetooth needs dbus and bluez on the host "
    "(in a container: mount /run/dbus)"
)
_NO_BLUEZ = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
}
_PAIRING_DBUS = {
    "org.bluez.Error.AuthenticationFailed",
    "org.bluez.Error.AuthenticationRejected",
    "org.bluez.Error.AuthenticationCanceled",
    "org.bluez.Error.AuthenticationTimeout",
    "org.bluez.Error.NotPaired",
}
_PAIRING_ATT = {
    BleakGATTProtocolErrorCode.INSUFFICIENT_AUTHENTICATION,
    BleakGATTProtocolErrorCode.INSUFFICIENT_AUTHORIZATION,
    BleakGATTProtocolErrorCode.INSUFFICIENT_ENCRYPTION,
    BleakGATTProtocolErrorCode.INSUFFICIENT_ENCRYPTION_KEY_SIZE,
}
PAIRING_HINT = "pair it once with `bluetoothctl pair ADDRESS` (JK firmware 19.30+ needs this)"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes: bleak-retry-connector wraps the interesting one."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _bluetooth_error(exc: BaseException) -> SourceError | None:
    # The bus socket: FileNotFoundError, ConnectionRefusedError, PermissionError. TimeoutError
    # and aiobmsble's ConnectionError are OSErrors too, but without an errno.
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError) and exc.errno is not None:
        return SourceError("no_bluetooth", NO_DBUS.format(detail=exc.strerror or exc))
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason is BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM:
            return SourceError("no_bluetooth", f"access to BlueZ denied: {exc.args[0]}")
        return SourceError("no_adapter", str(exc.args[0]))
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error in _NO_BLUEZ:
            return SourceError("no_bluetooth", "BlueZ (bluetoothd) is not running on the D-Bus")
        if exc.dbus_error in _PAIRING_DBUS:
            return SourceError("pairing_required", f"the pack refused: {PAIRING_HINT}")
    if isinstance(exc, BleakGATTProtocolError) and exc.code in _PAIRING_ATT:
        return SourceError("pairing_required", f"the pack wants a paired link: {PAIRING_HINT}")
    if isinstance(exc, BleakDeviceNotFoundError | BleakNotFoundError):
        return SourceError("not_found", "the pack vanished from BlueZ (out of range?)")
    return None


def classify(exc: BaseException, wire: WireLog | None = None, timeout: float = 0) -> SourceError:
    """The reason a poll failed; ``wire`` says what aiobmsble saw on the link meanwhile."""
    if isinstance(exc, SourceError):
        return exc
    for link in _chain(exc):
        if (error := _bluetooth_error(link)) is not None:
            return error
    if wire is not None and wire.corrupt_frames:
        return SourceError(
            "payload", f"{wire.corrupt_frames} frame(s) with a bad checksum, no valid frame"
        )
    if wire is not None and wire.peer_dropped:
        return SourceError("disconnected", "the pack dropped the connection mid-exchange")
    if isinstance(exc, TimeoutError):
        return SourceError("timeout", f"no complete answer within {timeout:g}s")
    if isinstance(exc, ConnectionError):  # aiobmsble: the expected characteristics are missing
        return SourceError("protocol", str(exc) or "unexpected GATT layout")
    if isinstance(exc, ValueError):
        return SourceError("payload", f"undecodable data: {exc}")
    if isinstance(exc, BleakError | EOFError):
        return SourceError("connection", f"{type(exc).__name__}: {exc}"[:200])
    return SourceError("internal", f"{type(exc).__name__}: {exc}"[:200])
