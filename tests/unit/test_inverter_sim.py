"""The simulated inverter: scenario-driven values, outages at given times, RTU answers."""

from __future__ import annotations

import pytest

from gridwatch.sim.inverter.device import InverterDevice, Scenario
from gridwatch.sources.inverter.regmap import load_shipped
from gridwatch.sources.inverter.rtu import crc16, parse_read_response, read_request

pytestmark = pytest.mark.clock

NOON_KYIV = 1_750_000_000 - (1_750_000_000 % 86400) + 10 * 3600  # 12:00 at UTC+2


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_scenario_outage_and_return_at_given_times() -> None:
    clock = Clock(NOON_KYIV)
    scenario = Scenario(start=NOON_KYIV, outages=[(600.0, 1200.0)])
    device = InverterDevice(load_shipped("smg_ii"), scenario, clock=clock)
    assert device.grid_up and float(device.values()["mains_voltage"]) > 200
    clock.now += 700
    assert not device.grid_up
    values = device.values()
    assert values["mains_voltage"] == 0 and values["mains_frequency"] == 0
    clock.now += 600
    assert device.grid_up
    device.grid_override = False  # tests can force it either way
    assert not device.grid_up


def test_battery_follows_pv_and_load() -> None:
    clock = Clock(NOON_KYIV)
    device = InverterDevice(load_shipped("smg_ii"), Scenario(start=NOON_KYIV), clock=clock)
    start = device.values()["battery_soc"]
    clock.now += 1800  # half an hour of midday sun: the battery charges
    noon = device.values()
    assert float(noon["battery_power"]) > 0 and float(noon["battery_soc"]) > float(start)
    clock.now += 12 * 3600  # midnight: no PV, the battery carries the load
    night = device.values()
    assert night["pv1_power"] == 0 and float(night["battery_power"]) < 0


def test_low_battery_with_grid_moves_the_load_to_mains() -> None:
    clock = Clock(NOON_KYIV + 12 * 3600)
    scenario = Scenario(start=clock.now, initial_soc=0.1)
    device = InverterDevice(load_shipped("smg_ii"), scenario, clock=clock)
    values = device.values()
    assert values["operating_mode"] == 2 and float(values["mains_power"]) > 0  # "mains"
    device.grid_override = False
    assert device.values()["operating_mode"] == 3  # "off_grid"


def test_rtu_answers_and_silences() -> None:
    device = InverterDevice(load_shipped("smg_ii"))
    reply = device.handle_rtu(read_request(1, 201, 3))
    assert reply is not None and parse_read_response(reply, 1, 3, 3)[0] == 3
    assert device.handle_rtu(read_request(2, 201, 3)) is None  # another unit: silence
    assert device.handle_rtu(read_request(1, 201, 3)[:-1] + b"\x00") is None  # bad CRC: silence
    body = bytes((1, 0x06, 0, 1, 0, 1))  # write single register: not supported
    assert device.handle_rtu(body + crc16(body)) == bytes((1, 0x86, 1)) + crc16(bytes((1, 0x86, 1)))
    device.exception = 7
    reply = device.handle_rtu(read_request(1, 201, 3))
    assert reply is not None and reply[1:3] == bytes((0x83, 7))
