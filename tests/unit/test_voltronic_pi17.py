"""PI17 framing and decoders, the PI30 MAX extras (36-bit QPIWS, QET) and PI18's ET: hand-written
frames in the units' format, the checks that stand in for PI17's missing request CRC, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridwatch.core.source import SourceError
from gridwatch.sim.inverter.voltronic import VoltronicDevice, d, frame
from gridwatch.sources.inverter.protocols import pi17, pi18, pi30, voltronic
from gridwatch.sources.inverter.protocols.driver import FAMILIES, AsciiDriver
from gridwatch.sources.inverter.regmap import Decoded
from tests.voltronic_captures import OWN, UnitLink, frames

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reply(data: str) -> str:
    """``data`` as a PI17 unit sends it (length, CRC, CR), checked and unframed as gridwatch
    reads it."""
    return voltronic.reply_text(frame(d(data)), "test")


def named(values: list[Decoded]) -> dict[str, float | str | None]:
    return {
        f"{v.spec.name}@{v.spec.phase}" if v.spec.phase else v.spec.name: v.text or v.value
        for v in values
    }


def flags(values: list[Decoded]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for v in values:
        if v.spec.effective_kind == "flags":
            out |= v.flags_set()
    return out


def test_requests_carry_no_crc_and_count_the_cr() -> None:
    assert pi17.command("PI") == "^P003PI"
    assert pi17.command("PIRI") == "^P005PIRI"
    assert FAMILIES["pi17"].encode("^P003GS") == b"^P003GS\r"
    assert FAMILIES["pi18"].encode("^P005GS") == b"^P005GS\x58\x14\r"  # PI18 keeps its CRC


GS = (
    "3012,0000,0031,0000,0532,071,-00085,2381,2402,2397,4998,0015,0021,0009,2300,2301,2299,"
    "5000,,,,041,047,026,0"
)
PS = (
    "00934,00000,00452,00350,00360,00340,01050,00410,00395,00380,01185,00480,00470,00450,01400,"
    "012,1,1,0,2,2,1"
)


def test_gs_decodes_per_phase_with_empty_fields_absent() -> None:
    values = named(pi17.status(reply(GS)))
    assert values["pv1_voltage"] == 301.2 and values["pv1_current"] == 3.1
    assert values["battery_voltage"] == 53.2 and values["battery_soc"] == 71
    assert values["battery_current"] == -8.5
    assert [values[f"mains_voltage_l{i}@l{i}"] for i in (1, 2, 3)] == [238.1, 240.2, 239.7]
    assert values["mains_frequency"] == 49.98 and values["output_frequency"] == 50.0
    assert values["mains_current_l2@l2"] == 2.1
    assert "output_current_l1@l1" not in values  # ",,," on this model: absent, never a zero
    assert values["component_max_temperature"] == 47


def test_the_battery_direction_signs_power_and_current() -> None:
    def poll(gs: str, ps: str) -> dict[str, float | str | None]:
        return named(pi17.signed(pi17.status(reply(gs)) + pi17.power(reply(ps))))

    values = poll(GS, PS)
    assert values["pv1_power"] == 934 and values["mains_power"] == 1050
    assert values["output_power"] == 1185 and values["output_power_l3@l3"] == 380
    # Direction 2 (discharging): minus, whatever sign the current field had.
    assert values["battery_power"] == -452 and values["battery_current"] == -8.5
    unsigned = poll(GS.replace("-00085", "+00085"), PS)
    assert unsigned["battery_current"] == -8.5
    charging = poll(GS, PS.replace(",1,1,0,2,2,1", ",1,1,0,1,1,1"))
    assert charging["battery_power"] == 452 and charging["battery_current"] == 8.5
    idle = poll(GS, PS.replace(",1,1,0,2,2,1", ",1,1,0,0,2,1"))
    assert idle["battery_current"] == -8.5  # idle: as read


def test_mode_warnings_settings_energy_and_identity() -> None:
    assert pi17.mode(reply("06"))[0].state == "charge"
    ws = flags(pi17.warnings(reply("0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,1,0,0,")))
    assert ws["mains_fail"] and ws["overload"] and not ws["pv1_loss"]
    piri = named(pi17.settings(reply("2300,500,0416,2300,0416,0187,0480,2,10,0,1")))
    assert piri["battery_rated_voltage"] == 48.0
    assert pi17.settings(reply("2300,500,0416,2300,0416,0187,0480,2,10,0,1"))[-1].state == "hybrid"
    assert named(pi17.total_energy(reply("00012345")))["pv_energy_total"] == 12345
    assert pi17.protocol_id(reply("17")) == "PI17"
    assert named(pi17.serial_number(reply("1496161704100242000000"))) == {
        "serial_number": "96161704100242"
    }
    assert named(pi17.firmware(reply("VERFW:00001.01"))) == {"firmware": "00001.01"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("^D030" + GS, "payload"),  # the announced length is not what came
        ("(" + GS, "protocol"),  # not a ^D reply
        (d(GS.replace("3012", "30l2")), "payload"),  # a letter where a number belongs
        ("^D010" + "0,1", "payload"),
    ],
)  # fmt: skip
def test_garbage_that_passes_the_crc_fails_the_reply(text: str, reason: str) -> None:
    checked = voltronic.reply_text(frame(text), "GS")  # the CRC itself is fine
    with pytest.raises(SourceError) as bad:
        pi17.status(checked)
    assert bad.value.reason == reason


def test_the_simulated_unit_refuses_a_request_whose_length_is_wrong() -> None:
    unit = VoltronicDevice("pi17")
    assert unit.answer(b"^P003PI\r") == frame(d("17"))
    assert unit.answer(b"^P004PI\r") == frame("^0")
    assert unit.answer(b"QPI\xbe\xac\r") == frame("^0")


@pytest.mark.parametrize("family", ["pi30", "pi18", "pi17"])
async def test_serial_and_slow_commands_are_read_again_on_the_slow_cadence(family: str) -> None:
    unit = VoltronicDevice(family, max_model=True, serial="11111111111111")
    polls = iter([0.0, 20.0, 40.0, 60.0])  # polls 20 s apart; slow_interval 60 s
    driver = AsciiDriver(FAMILIES[family], "inv", slow_interval=60.0, clock=lambda: next(polls))
    link = UnitLink(unit)
    serials = []
    for _ in range(4):
        values = await driver.poll(link)
        serials.append(next(v.text for v in values if v.spec.metric == "serial_number"))
        unit.serial = "22222222222222"  # swapped behind a bridge whose connection stays up
    # Polls 1 and 4 read the identity (and the slow commands); 2 and 3 keep what was read.
    assert serials == ["11111111111111"] * 3 + ["22222222222222"]
    slow = [c.text for c in FAMILIES[family].poll if c.slow]
    assert all(unit.requests.count(c) == 2 for c in slow), unit.requests


def test_pi30_max_qpiws_names_four_more_warnings_and_qet_is_wh() -> None:
    bits = ["0"] * 36
    bits[0] = bits[15] = bits[30] = bits[31] = "1"
    warned = flags(pi30.warnings("(" + "".join(bits)))
    assert warned["pv_loss"] and warned["battery_derating"]
    assert warned["battery_weak"] and warned["battery_equalisation"]
    plain = flags(pi30.warnings("(" + "".join(bits[:32])))
    assert "pv_loss" not in plain and "battery_weak" not in plain  # reserved on a plain PI30
    assert named(pi30.total_energy("(00238800")) == {"pv_energy_total": 238800}
    assert pi30.total_energy("(00238800")[0].spec.unit == "Wh"
    with pytest.raises(SourceError):
        pi30.total_energy("(002388OO")
    assert named(pi18.total_energy("^D01100802946")) == {"pv_energy_total": 802946}


@FUZZ
@given(
    st.lists(st.integers(0, 9999), min_size=25, max_size=25),
    st.integers(-9999, 9999),
    st.sampled_from(["", "0000"]),
)
def test_gs_round_trip(numbers: list[int], amps: int, output_current: str) -> None:
    parts = [f"{n:04d}" for n in numbers]
    parts[4], parts[5], parts[6] = "0532", "071", f"{amps:+06d}"
    parts[7:10] = ["2300", "2310", "2320"]
    parts[10], parts[17] = "5000", "5000"
    parts[14:17] = ["2300", "2300", "2300"]
    parts[18:21] = [output_current] * 3
    values = named(pi17.status(reply(",".join(parts))))
    assert values["battery_current"] == amps / 10
    assert values["pv1_voltage"] == numbers[0] / 10
    assert values["mains_voltage_l3@l3"] == 232.0
    assert ("output_current_l1@l1" in values) is (output_current != "")


@FUZZ
@given(st.text(alphabet="^D0123456789,+-. ", max_size=140))
def test_pi17_decoders_give_values_or_a_clean_error(text: str) -> None:
    for decoder in (pi17.status, pi17.power, pi17.warnings, pi17.settings, pi17.total_energy):
        try:
            values = decoder(text)
        except SourceError as exc:
            assert exc.reason in {"protocol", "payload"}
            continue
        assert all(v.value is not None for v in values)


def test_own_copies_of_real_frames_give_the_status_flags_and_the_energy_total() -> None:
    own = frames(OWN / "pi30_frames.txt") | frames(OWN / "pi18_frames.txt")
    status = pi30.status(voltronic.reply_text(own["AXPERT_8KW_QPIGS_A"], "QPIGS"))
    set_flags = {name for name, on in flags(status).items() if on}
    # Its sidecar: status1=00010110 (load+charging+scc_charging), status2=010 (switch_on).
    assert set_flags == {"load_on", "charging", "scc_charging", "switched_on"}
    energy = pi18.total_energy(voltronic.reply_text(own["LV5048_P005ET_BECKOPOPOV"], "ET"))
    assert named(energy) == {"pv_energy_total": 802946}
