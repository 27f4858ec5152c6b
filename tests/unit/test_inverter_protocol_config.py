"""The ``protocol:`` key of an inverter: which transports and keys go with it; errors name keys."""

from __future__ import annotations

from typing import Any

import pytest

from gridwatch.config import ConfigError, parse_config
from gridwatch.sources.inverter import INVERTERS


def inverter(**keys: Any) -> Any:
    return INVERTERS.of(parse_config({"inverters": [{"name": "inv", **keys}]}))[0]


def test_defaults_modbus_and_ascii_baud_rates() -> None:
    assert inverter(transport="serial", device="/dev/ttyUSB0").protocol == "modbus"
    assert inverter(transport="serial", device="/dev/ttyUSB0").line_baudrate == 9600
    pi30 = inverter(protocol="pi30", transport="serial", device="/dev/ttyUSB0")
    assert pi30.line_baudrate == 2400
    assert inverter(protocol="pi18", transport="hid", device="/dev/hidraw0").transport == "hid"
    pi17 = inverter(protocol="pi17", transport="serial", device="/dev/ttyUSB0")
    assert pi17.line_baudrate == 2400
    bridge = inverter(protocol="pi30", transport="tcp", host="192.168.1.50", port=8899)
    assert (bridge.host, bridge.port) == ("192.168.1.50", 8899)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"protocol": "pi30", "transport": "solarman", "host": "h", "logger_serial": 1},
         "serial, hid, tcp (an RS232 bridge) or eybond"),
        ({"protocol": "pi17", "transport": "tcp", "host": "h"}, "needs port"),
        ({"transport": "hid", "device": "/dev/hidraw0"}, "set protocol: pi30, pi18 or pi17"),
        ({"protocol": "pi30", "transport": "hid"}, "needs device"),
        ({"protocol": "pi18", "transport": "serial", "device": "/d", "model": "smg_ii"},
         "model and model_file are for protocol modbus"),
        ({"protocol": "pi31", "transport": "serial", "device": "/d"}, "inverters[0].protocol"),
    ],
)  # fmt: skip
def test_wrong_combinations_name_the_key(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        inverter(**keys)
    assert "inverters[0]" in str(err.value) and message in str(err.value), str(err.value)
