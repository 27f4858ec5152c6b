"""Every way the Bluetooth stack fails maps to one known reason, with a useful message.

The exceptions are the ones bleak, dbus-fast and bleak-retry-connector raise (constructed as they
construct them); the fake-BlueZ integration tests produce most of them for real.
"""

from __future__ import annotations

import logging

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from bleak_retry_connector import BleakNotFoundError

from gridwatch.core.source import SourceError, known_reasons
from gridwatch.sources.bms.errors import classify
from gridwatch.sources.bms.wirelog import WireLog


def _wrapped(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as final:
        return final


@pytest.mark.parametrize(
    ("exc", "reason", "hint"),
    [
        (FileNotFoundError(2, "No such file or directory"), "no_bluetooth", "/run/dbus"),
        (ConnectionRefusedError(111, "Connection refused"), "no_bluetooth", "D-Bus"),
        (
            BleakDBusError(
                "org.freedesktop.DBus.Error.ServiceUnknown",
                ["The name org.bluez was not provided by any .service files"],
            ),
            "no_bluetooth",
            "BlueZ",
        ),
        (
            BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            ),
            "no_adapter",
            "adapters",
        ),
        (
            BleakBluetoothNotAvailableError(
                "No powered Bluetooth adapters found.",
                BleakBluetoothNotAvailableReason.POWERED_OFF,
            ),
            "no_adapter",
            "powered",
        ),
        (BleakGATTProtocolError(0x05), "pairing_required", "bluetoothctl pair"),
        (
            BleakDBusError("org.bluez.Error.AuthenticationFailed", ["Authentication Failed"]),
            "pairing_required",
            "bluetoothctl",
        ),
        (
            _wrapped(BleakNotFoundError("failed after 4 attempts"), TimeoutError()),
            "not_found",
            "range",
        ),
        (BleakDeviceNotFoundError("AA:BB", "not found"), "not_found", "range"),
        (TimeoutError(), "timeout", "within 7s"),
        (ConnectionError("Failed to detect characteristics from JK."), "protocol", "detect"),
        (ValueError("bad"), "payload", "bad"),
        (BleakError("Not connected"), "connection", "Not connected"),
        (RuntimeError("boom"), "internal", "boom"),
    ],
)
def test_reasons(exc: BaseException, reason: str, hint: str) -> None:
    error = classify(exc, None, 7)
    assert error.reason == reason and reason in known_reasons()
    assert hint in error.message


def test_source_errors_pass_through() -> None:
    error = SourceError("not_found", "x")
    assert classify(error) is error


def _wire(*messages: str) -> WireLog:
    wire = WireLog("unit test")
    log = logging.getLogger(wire.logger_name)
    for message in messages:
        log.debug(message)
    return wire


def test_checksum_failures_make_a_timeout_a_payload_error() -> None:
    wire = _wire("JK|C5: invalid checksum 0x4 != 0x5", "JK|C5: invalid checksum 0x4 != 0x5")
    error = classify(TimeoutError(), wire, 5)
    assert error.reason == "payload" and "2 frame(s)" in error.message
    wire.close()


def test_peer_disconnect_before_giving_up_is_disconnected() -> None:
    wire = _wire("JK|C5: disconnected from BMS (id: 0x1)")
    assert classify(TimeoutError(), wire, 5).reason == "disconnected"
    wire.begin()  # a new poll forgets the last one's events
    assert classify(TimeoutError(), wire, 5).reason == "timeout"
    wire.close()


def test_own_cleanup_after_a_failed_connect_is_not_a_peer_disconnect() -> None:
    wire = _wire(
        "JK|C5: failed to initialize BMS connection (TimeoutError)",
        "JK|C5: disconnected from BMS (id: 0x1)",
    )
    assert classify(TimeoutError(), wire, 5).reason == "timeout"
    wire.close()


def test_wire_log_keeps_aiobmsble_quiet() -> None:
    """aiobmsble logs each failed connect at INFO; those must not reach the service log."""
    seen: list[logging.LogRecord] = []
    root_handler = logging.Handler()
    root_handler.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(root_handler)
    try:
        wire = WireLog("quiet")
        logging.getLogger(wire.logger_name).info("failed to initialize BMS connection (x)")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert wire.events == ["connect_failed"]
    assert not seen
    wire.close()
