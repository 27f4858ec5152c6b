"""Every real Deye capture through the real `gridwatch run` process, against a simulator serving it.

Each capture (../shared/fixtures/inverter-deye) becomes one inverter of one `gridwatch run`:
the V5 captures behind the Solarman logger simulator (a request equal to the captured one gets
the captured response frame, only its echoed sequence byte and sum changed; a read inside a
captured block gets those words), the Modbus TCP capture behind the pymodbus server. The map is
the shipped one cut down to the captured registers, so nothing outside the capture is read. The
exposition must carry the values the sidecar states (converted to gridwatch's units and signs).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.inverter.replay import RecordedDevice
from gridwatch.sim.inverter.solarman import SolarmanLoggerSimulator
from gridwatch.sim.polling import wait_until
from gridwatch.sources.inverter.regmap import load_file, load_shipped
from gridwatch.sources.inverter.solarman_frame import V5Frame, cut
from tests.helpers import (
    PROJECT_FIXTURES,
    SHARED_FIXTURES,
    Samples,
    load_json,
    value,
)
from tests.integration.inverter_harness import gridwatch_run

pytestmark = pytest.mark.integration
FOLDER = SHARED_FIXTURES / "inverter-deye"
MODELS = Path(__file__).resolve().parents[2] / "exporter/gridwatch/sources/inverter/models"
KWH = 3.6e6
OWN_FIXTURE = "deye_sg0xlp1_v5_read_0x0096_double_crc.json"
INV = "gridwatch_inverter_"

# (first register, sidecar name) → (metric, labels, factor from the sidecar's value).
EXPECT: dict[tuple[int, str], tuple[str, dict[str, str], float]] = {
    (0x0202, "Today Battery Charge"): ("energy_today_joules", {"flow": "battery_charge"}, KWH),
    (0x0203, "Today Battery Discharge"): (
        "energy_today_joules",
        {"flow": "battery_discharge"},
        KWH,
    ),
    (0x0204, "Total Battery Charge"): ("energy_joules_total", {"flow": "battery_charge"}, KWH),
    (0x0206, "Total Battery Discharge"): (
        "energy_joules_total",
        {"flow": "battery_discharge"},
        KWH,
    ),
    (0x0208, "Today Energy Import"): ("energy_today_joules", {"flow": "grid_import"}, KWH),
    (0x0209, "Today Energy Export"): ("energy_today_joules", {"flow": "grid_export"}, KWH),
    (0x020A, "Total Energy Import"): ("energy_joules_total", {"flow": "grid_import"}, KWH),
    (0x020C, "Total Energy Export"): ("energy_joules_total", {"flow": "grid_export"}, KWH),
    (0x020E, "Today Load Consumption"): ("energy_today_joules", {"flow": "load"}, KWH),
    (0x020F, "Total Load Consumption"): ("energy_joules_total", {"flow": "load"}, KWH),
    (0x0211, "Today Production"): ("energy_today_joules", {"flow": "pv"}, KWH),
    (0x0216, "Total Production"): ("energy_joules_total", {"flow": "pv"}, KWH),
    (0x021C, "DC Temperature"): ("temperature_celsius", {"sensor": "dc"}, 1),
    (0x021D, "Temperature"): ("temperature_celsius", {"sensor": "ac"}, 1),
    (0x0228, "Grid"): ("grid_connected", {}, 1),
    (0x024A, "Battery Temperature"): ("temperature_celsius", {"sensor": "battery"}, 1),
    (0x024B, "Battery Voltage"): ("battery_voltage_volts", {}, 1),
    (0x024C, "Battery"): ("battery_soc_ratio", {}, 0.01),
    (0x024E, "Battery Power"): ("battery_power_watts", {}, -1),  # Deye: + discharging
    (0x007E, "Battery Grid Charging Start Voltage"): (
        "setting",
        {"setting": "grid_charge_start_voltage"},
        1,
    ),
    (0x007F, "Battery Grid Charging Start"): ("setting", {"setting": "grid_charge_start_soc"}, 1),
    (0x0080, "Battery Grid Charging Current"): ("setting", {"setting": "grid_charge_current"}, 1),
    (0x008E, "Work Mode"): ("setting", {"setting": "work_mode"}, 1),
}


def _blocks(capture: dict[str, Any]) -> list[dict[str, Any]]:
    return capture.get("blocks") or [capture]


def _start(block: dict[str, Any]) -> int:
    return int(str(block["start_register"]).split()[0], 16)


def _words(capture: dict[str, Any]) -> dict[int, int]:
    words: dict[int, int] = {}
    for block in _blocks(capture):
        start = _start(block)
        words.update((start + i, w) for i, w in enumerate(block["registers"]))
    return words


def _cut_map(words: dict[int, int], tmp: Path, name: str) -> Path:
    """The shipped three-phase map with only the registers the capture holds."""
    regmap = load_file(MODELS / "deye_sg0xlp3.yaml")
    keep = {r.name for r in regmap.registers if all(a in words for a in r.addresses)}
    return cut_shipped("deye_sg0xlp3", keep, tmp / f"{name}.yaml")


def _expected(capture: dict[str, Any]) -> list[tuple[str, dict[str, str], float]]:
    found = []
    for block in _blocks(capture):
        for entry in block["decoded"]:
            key = (int(entry["registers"][0], 16), entry["name"])
            if key in EXPECT and isinstance(entry["value"], int | float):
                metric, labels, factor = EXPECT[key]
                found.append((metric, labels, entry["value"] * factor))
    return found


@contextlib.asynccontextmanager
async def serving(path: Path, tmp: Path, name: str) -> AsyncIterator[dict[str, Any]]:
    """A simulator serving the capture; yields the inverter's config entry."""
    capture = load_json(path)
    words = _words(capture)
    model_file = _cut_map(words, tmp, name)
    device = RecordedDevice(load_file(model_file), words)
    entry: dict[str, Any] = {"name": name, "model_file": str(model_file), "interval": "0.5s"}
    if "modbus-tcp" in path.name:
        async with ModbusInverterServer(device) as server:
            yield {**entry, "transport": "tcp", "host": "127.0.0.1", "port": server.port}
        return
    replay = {
        bytes.fromhex(b["request"]["modbus_rtu"]): bytes.fromhex(b["response"]["hex"])
        for b in _blocks(capture)
    }
    serial = _blocks(capture)[0]["request"]["logger_serial"]
    async with SolarmanLoggerSimulator(device, logger_serial=serial, replay=replay) as sim:
        yield {
            **entry,
            "transport": "solarman",
            "host": "127.0.0.1",
            "port": sim.port,
            "logger_serial": serial,
        }


def v5_frames(data: bytes) -> list[V5Frame]:
    return cut(bytearray(data))[0]


CAPTURES = sorted(p for p in FOLDER.glob("deye_sg0*.json")) if FOLDER.is_dir() else []


async def run_gridwatch(tmp_path: Path, entries: list[dict[str, Any]]) -> Samples:
    """`gridwatch run` with these inverters until all are up; its exposition then."""
    seen: Samples = {}
    async with gridwatch_run(tmp_path, entries) as metrics:

        async def all_up() -> bool:
            nonlocal seen
            seen = await metrics()
            return all(
                value(seen, "gridwatch_source_up", source="inverter", device=e["name"]) == 1
                for e in entries
            )

        await wait_until(all_up, what="every inverter up")
    return seen


def cut_shipped(model: str, keep: set[str], path: Path, **keys: object) -> Path:
    """The shipped map with only ``keep``, every register on every poll and no device-type
    expectation (a capture holds neither the device type nor always a fast register)."""
    data = yaml.safe_load((MODELS / f"{model}.yaml").read_text(encoding="utf-8"))
    data.pop("expect", None)
    data["registers"] = [
        {k: v for k, v in r.items() if k != "slow"} for r in data["registers"] if r["name"] in keep
    ]
    path.write_text(yaml.safe_dump({**data, **keys}), encoding="utf-8")
    return path


async def replayed_through_gridwatch_run(
    tmp_path: Path, name: str, model_file: Path, serial: int, replay: dict[bytes, bytes]
) -> Samples:
    """`gridwatch run` against a logger answering only the captured frames (others: 02)."""
    device = RecordedDevice(load_file(model_file), {})
    async with SolarmanLoggerSimulator(device, logger_serial=serial, replay=replay) as sim:
        entry = {
            "name": name,
            "transport": "solarman",
            "host": "127.0.0.1",
            "port": sim.port,
            "logger_serial": serial,
            "model_file": str(model_file),
            "interval": "0.5s",
        }
        return await run_gridwatch(tmp_path, [entry])


@pytest.mark.skipif(not CAPTURES, reason="../shared/fixtures/inverter-deye not present")
async def test_every_capture_decodes_to_its_stated_values_through_gridwatch_run(
    tmp_path: Path,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        entries = [
            await stack.enter_async_context(serving(p, tmp_path, f"capture{i}"))
            for i, p in enumerate(CAPTURES)
        ]
        samples = await run_gridwatch(tmp_path, entries)
    checked = 0
    for path, entry in zip(CAPTURES, entries, strict=True):
        expected = _expected(load_json(path))
        assert expected, f"{path.name}: no stated value this map covers"
        for metric, labels, want in expected:
            got = value(samples, INV + metric, inverter=entry["name"], **labels)
            assert got == pytest.approx(want), (path.name, metric, labels)
            checked += 1
        if "issue31" in path.name:  # §3.3: 14.09 A discharging at night, + charging for us
            got = value(samples, INV + "battery_current_amperes", inverter=entry["name"])
            assert got == pytest.approx(-14.09)
    assert checked >= 35  # 38 stated values in the three captures


async def test_own_single_phase_fixture_with_a_doubled_crc_through_gridwatch_run(
    tmp_path: Path,
) -> None:
    """tests/fixtures/inverter-deye: our own V5 frame (no ../shared needed), replayed as is."""
    fixture = load_json(
        PROJECT_FIXTURES / "inverter-deye/deye_sg0xlp1_v5_read_0x0096_double_crc.json"
    )
    request = v5_frames(bytes.fromhex(fixture["request_hex"]))[0]
    rtu_request = request.payload[15:]
    regmap = load_shipped(fixture["model"])
    start = int.from_bytes(rtu_request[2:4])
    block = set(range(start, start + int.from_bytes(rtu_request[4:6])))
    keep = {r.name for r in regmap.registers if set(r.addresses) <= block}
    model_file = cut_shipped(fixture["model"], keep, tmp_path / "cut.yaml")
    replay = {rtu_request: bytes.fromhex(fixture["response_hex"])}
    samples = await replayed_through_gridwatch_run(
        tmp_path, "own", model_file, fixture["logger_serial"], replay
    )
    for key, want in fixture["stated"].items():
        name, _, rest = key.partition("{")
        labels = dict(p.split("=") for p in rest.rstrip("}").split(",")) if rest else {}
        assert value(samples, INV + name, inverter="own", **labels) == pytest.approx(want), key


FRAMES = FOLDER / "deye_solarman-v5_frames_from_issues_decoded.json"
# Settings the frames' notes state (deye-controller#2, a three-phase LV unit), by their name.
STATED_SETTINGS = {
    "Battery Shutdown Voltage": "battery_shutdown_voltage",
    "Battery Restart Voltage": "battery_restart_voltage",
    "Battery Low Voltage": "battery_low_voltage",
    "Battery Grid Charging Start Voltage": "grid_charge_start_voltage",
}


def _stated_setting(note: str) -> tuple[str, float] | None:
    found = re.search(r"\((?:P3 map: )?([A-Za-z ]+?) ([\d.]+) V\)", note)
    if found is None or found[1] not in STATED_SETTINGS:
        return None
    return STATED_SETTINGS[found[1]], float(found[2])


@pytest.mark.skipif(not FRAMES.is_file(), reason="../shared/fixtures/inverter-deye not present")
async def test_real_settings_frames_decode_to_their_notes_through_gridwatch_run(
    tmp_path: Path,
) -> None:
    """The deye-controller#2 request/response pairs, replayed frame for frame: the map reads one
    register a request, as that client did, so each request equals a captured one."""
    entries = load_json(FRAMES)
    sent = {
        (e["seq_bytes"].split()[0], e["logger_serial"]): e
        for e in entries
        if e.get("direction") == "sent"
    }
    replay: dict[bytes, bytes] = {}
    expected: dict[str, float] = {}
    serial = None
    for reply in entries:
        stated = _stated_setting(reply.get("note", ""))
        if reply.get("direction") != "recd" or stated is None:
            continue
        request = sent[(reply["seq_bytes"].split()[0], reply["logger_serial"])]
        replay[bytes.fromhex(request["modbus_rtu"])] = bytes.fromhex(reply["hex"])
        expected[stated[0]] = stated[1]
        serial = reply["logger_serial"]
    assert len(expected) == 4 and serial is not None
    # One register a request, like the captured client: each request equals a captured one.
    model_file = cut_shipped(
        "deye_sg0xlp3", set(expected), tmp_path / "settings.yaml", max_registers=1
    )
    samples = await replayed_through_gridwatch_run(tmp_path, "frames", model_file, serial, replay)
    for setting, want in expected.items():
        got = value(samples, INV + "setting", inverter="frames", setting=setting)
        assert got == pytest.approx(want), setting
