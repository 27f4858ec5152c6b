"""The P1 port without HomeWizard: DSMR telegrams over TCP and a pseudo-terminal, parsed by
dsmr-parser, give the same gridwatch_p1_* series as the HomeWizard source; bad CRCs, truncated
telegrams, telegrams split across reads and unknown OBIS lines are handled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.sim.homewizard.p1_format import load_fixture
from gridwatch.sim.homewizard.p1_port import P1PortSimulator, with_crc
from tests.helpers import Samples, value
from tests.integration.conftest import FULL_V1, Running

pytestmark = pytest.mark.integration
FIXTURE = load_fixture(FULL_V1)
POWER = "gridwatch_p1_power_watts"
KEY = {"source": "homewizard", "device": "home"}


def errors(s: Samples, reason: str) -> float:
    return value(s, "gridwatch_source_errors_total", **KEY, reason=reason) or 0


Start = Callable[..., Awaitable[tuple[P1PortSimulator, Running]]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    started: list[tuple[P1PortSimulator, Exporter]] = []

    async def run(transport: str = "tcp", **extra: Any) -> tuple[P1PortSimulator, Running]:
        port = P1PortSimulator(lambda _now: dict(FIXTURE.v2))
        await port.start()
        meter: dict[str, Any] = {"type": "dsmr", "name": "home", "dialect": "dsmr5"}
        if transport == "tcp":
            meter |= {"host": "127.0.0.1", "port": port.tcp_port}
        else:
            meter["serial_port"] = port.pty_path
        meter |= extra
        config = parse_config(
            {
                "site": {"timezone": "Europe/Stockholm"},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
                "meters": [meter],
            }
        )
        exporter = Exporter(config)
        started.append((port, exporter))
        await exporter.start()
        return port, Running(exporter)

    yield run
    for port, exporter in started:
        await exporter.stop()
        await port.close()


async def connected(port: P1PortSimulator, gw: Running) -> None:
    await gw.wait_for("the reader connected", lambda _s: port.clients > 0)


@pytest.mark.parametrize("transport", ["tcp", "pty"])
async def test_telegram_gives_the_p1_series(start: Start, transport: str) -> None:
    port, gw = await start(transport)
    if transport == "tcp":
        await connected(port, gw)
        await port.send()
    else:
        # Opening a serial port flushes what was waiting in it: the meter just keeps sending.
        port.start_ticking(0.2)
    s = await gw.wait_for("a reading", lambda s: value(s, POWER, meter="home") is not None)
    v2 = FIXTURE.v2
    assert value(s, POWER, meter="home") == v2["power_w"]
    for n in (1, 2, 3):
        phase = {"meter": "home", "phase": f"l{n}"}
        assert value(s, "gridwatch_p1_phase_voltage_volts", **phase) == v2[f"voltage_l{n}_v"]
        assert value(s, "gridwatch_p1_phase_power_watts", **phase) == v2[f"power_l{n}_w"]
        # the telegram carries whole amps; signed like the power
        amps = value(s, "gridwatch_p1_phase_current_amperes", **phase)
        assert amps == pytest.approx(v2[f"current_l{n}_a"], abs=0.5)
        for kind in ("sag", "swell"):
            assert (
                value(s, f"gridwatch_p1_voltage_{kind}s_total", **phase)
                == (v2[f"voltage_{kind}_l{n}_count"])
            )
    for direction in ("import", "export"):
        for t in (1, 2):
            labels = {"meter": "home", "direction": direction, "tariff": str(t)}
            got = value(s, "gridwatch_p1_tariff_energy_joules_total", **labels)
            assert got == pytest.approx(v2[f"energy_{direction}_t{t}_kwh"] * 3.6e6)
    assert value(s, "gridwatch_p1_active_tariff", meter="home") == v2["tariff"]
    assert value(s, "gridwatch_p1_power_failures_total", meter="home") == v2["any_power_fail_count"]
    gas = next(e for e in v2["external"] if e["type"] == "gas_meter")
    ext = {"meter": "home", "type": "gas_meter", "external_id": gas["unique_id"]}
    assert value(s, "gridwatch_p1_external_volume_cubic_meters_total", **ext) == gas["value"]
    assert value(s, "gridwatch_p1_phase_imbalance_amperes", meter="home") is not None
    assert value(s, "gridwatch_p1_phase_load_ratio", meter="home", phase="l1") is not None
    assert value(s, "gridwatch_source_up", **KEY) == 1


async def test_bad_crc_truncated_split_and_unknown_obis(start: Start) -> None:
    port, gw = await start()
    await connected(port, gw)
    good = port.telegram()
    body = good[: good.index("!") + 1]

    # A flipped digit: the CRC no longer matches; nothing of it is used.
    bad = good.replace("1-0:32.7.0(236.1*V)", "1-0:32.7.0(936.1*V)")
    await port.send(bad)
    s = await gw.wait_for("a crc error", lambda s: errors(s, "crc") >= 1)
    assert value(s, POWER, meter="home") is None

    # A telegram cut off mid-line, then a whole one: the cut one is counted, the next one used.
    await port.send(good[: len(good) // 2] + good)
    s = await gw.wait_for("truncated + good", lambda s: value(s, POWER, meter="home") is not None)
    assert errors(s, "payload") == 1
    assert value(s, "gridwatch_p1_phase_voltage_volts", meter="home", phase="l1") == 236.1

    # A telegram in 9 pieces, with a line no dialect knows (and a CRC that covers it).
    unknown = body.replace("0-0:96.13.0()", "0-0:96.13.0()\r\n1-0:99.99.9(12345*XYZ)")
    unknown = unknown.replace("1-0:32.7.0(236.1*V)", "1-0:32.7.0(228.8*V)")
    await port.send(with_crc(unknown), pieces=9)
    s = await gw.wait_for(
        "the split telegram",
        lambda s: value(s, "gridwatch_p1_phase_voltage_volts", meter="home", phase="l1") == 228.8,
    )
    assert errors(s, "crc") == 1 and errors(s, "payload") == 1


async def test_reader_down_is_a_failure_and_series_go(start: Start) -> None:
    _port, gw = await start(host="127.0.0.1", port=1)  # nothing listens there
    s = await gw.wait_for("connection errors", lambda s: errors(s, "connection") >= 1)
    assert value(s, "gridwatch_source_up", **KEY) == 0
    assert value(s, POWER, meter="home") is None
