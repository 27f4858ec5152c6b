"""Readings no battery can produce are refused with a reason, and real ones pass untouched."""

from __future__ import annotations

from typing import Any

import pytest
from aiobmsble import TempSensor

from gridwatch.core.source import SourceError
from gridwatch.sources.bms.plausible import check_plausible
from gridwatch.sources.bms.reading import from_sample

REAL = {  # JK02_32S v11.48, as aiobmsble decodes it
    "voltage": 26.509,
    "current": -7.063,
    "cell_voltages": [3.315, 3.315, 3.315, 3.312, 3.313, 3.312, 3.313, 3.313],
    "temp_values": [TempSensor(31.0, TempSensor.T.MOSFET), TempSensor(-3.1)],
}
# What aiobmsble makes of a JK04 cell frame read with the JK02_24S layout (esphome frames_jk04.h).
JK04_AS_24S = {
    "voltage": 1036901.344,
    "current": 1040287.892,
    "cell_voltages": [37.375, 16.47, 62.078, 16.47],
}


def test_real_readings_pass_unchanged() -> None:
    reading = from_sample(REAL, 0.0, "jikong_bms")
    assert check_plausible(reading) is reading
    idle_empty = from_sample({"voltage": 0.0, "current": 0.0, "cell_voltages": [0.0]}, 0, "x_bms")
    assert check_plausible(idle_empty) is idle_empty  # a dead cell is the BMS's problem flag


def test_a_jk04_pack_decoded_with_the_wrong_layout_is_a_protocol_error() -> None:
    with pytest.raises(SourceError) as info:
        check_plausible(from_sample(JK04_AS_24S, 0.0, "jikong_bms"))
    assert info.value.reason == "protocol"
    message = info.value.message
    assert "pack voltage 1.0369e+06 V" in message and "cell 1 at 37.375 V" in message
    assert "JK04" in message and "nothing exported" in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"voltage": 1000.5}, "pack voltage"),
        ({"voltage": -1.0}, "pack voltage"),
        ({"current": -5001.0}, "current"),
        ({"cell_voltages": [3.3] * 65}, "65 cells"),
        ({"cell_voltages": [3.3, 6.2]}, "cell 2 at 6.2 V"),
        ({"temp_values": [TempSensor(25.0), TempSensor(-200.0)]}, "sensor 2 at -200 °C"),
    ],
)
def test_each_limit(change: dict[str, Any], named: str) -> None:
    with pytest.raises(SourceError) as info:
        check_plausible(from_sample({**REAL, **change}, 0.0, "jbd_bms"))
    assert named in info.value.message
    assert "JK04" not in info.value.message  # the hint is for JK packs only
