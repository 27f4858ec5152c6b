"""The Voltronic ASCII framing and the PI30/PI18/PI17 decoders: captured frames, quirks,
fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols import pi17, pi18, pi30, voltronic
from gridwatch.sources.inverter.regmap import Decoded
from gridwatch.sources.inverter.transports.hid import reports
from tests.voltronic_captures import OWN, SHARED, frames

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DECODERS = [
    pi30.status, pi30.pv2, pi30.mode, pi30.warnings, pi30.settings, pi30.serial_number,
    pi30.firmware, pi18.status, pi18.mode, pi18.warnings, pi18.settings, pi18.serial_number,
    pi18.firmware, pi30.total_energy, pi18.total_energy, pi17.status, pi17.power, pi17.mode,
    pi17.warnings, pi17.settings, pi17.total_energy, pi17.serial_number, pi17.firmware,
]  # fmt: skip


def by_name(values: list[Decoded]) -> dict[str, float | str | None]:
    return {d.spec.name: d.text if d.text is not None else d.value for d in values}


@pytest.mark.parametrize(
    ("command", "crc"),
    [("QPI", "beac"), ("QID", "d6ea"), ("QVFW", "6299"), ("QPIRI", "f854"), ("QPIGS", "b7a9"),
     ("QPIGS2", "682d"), ("QMOD", "49c1"), ("QPIWS", "b4da"), ("^P005GS", "5814"),
     ("^P005PI", "718b"), ("^P006MOD", "ddbe"), ("^P007PIRI", "ee38")],
)  # fmt: skip
def test_request_crcs_match_the_reference(command: str, crc: str) -> None:
    assert voltronic.request(command) == command.encode() + bytes.fromhex(crc) + b"\r"


def test_own_frames_decode() -> None:
    own = frames(OWN / "pi30_frames.txt") | frames(OWN / "pi18_frames.txt")
    qpigs = by_name(pi30.status(voltronic.reply_text(own["EASUN_5500W_QPIGS_A"], "QPIGS")))
    assert qpigs["mains_voltage"] == 239.2 and qpigs["battery_voltage"] == 53.2
    assert qpigs["pv1_power"] == 407 and qpigs["battery_soc"] == 50
    pv2 = by_name(pi30.pv2(voltronic.reply_text(own["AXPERT_8KW_QPIGS2_A"], "QPIGS2")))
    assert pv2 == {"pv2_current": 1.0, "pv2_voltage": 202.0, "pv2_power": 205}
    assert pi30.mode(voltronic.reply_text(own["EASUN_5500W_QMOD"], "QMOD"))[0].state == "battery"
    gs = by_name(pi18.status(voltronic.reply_text(own["LV5048_P005GS_ACTIVE"], "GS")))
    assert gs["mains_voltage"] == 242.2 and gs["battery_current"] == 7 and gs["pv1_power"] == 1924
    assert pi18.protocol_id(voltronic.reply_text(own["LV5048_P005PI"], "PI")) == "PI18"
    with pytest.raises(SourceError) as nak:
        voltronic.reply_text(own["LV5048_RESPONSE_NAK"], "^P005XX")
    assert nak.value.reason == "nak"


def test_every_shared_frame_passes_its_crc() -> None:
    files = sorted(SHARED.glob("*_frames.txt"))
    if not files:
        pytest.skip("../shared/fixtures/inverter-pi30 not present")
    for path in files:
        for name, wire in frames(path).items():
            assert voltronic.checks(wire), name


def test_a_reply_that_passes_its_crc_can_still_be_garbage() -> None:
    good = (
        "(239.2 50.0 229.8 50.0 0321 0197 005 422 53.20 000 050 0056 01.7 229.2 00.00 00000 "
        "00010110 00 00 00407 010"
    )
    text = voltronic.reply_text(voltronic.request(good), "QPIGS")
    assert by_name(pi30.status(text))["battery_voltage"] == 53.2
    with pytest.raises(SourceError) as bad:  # non-ASCII, CRC valid (the MAX TWIN capture)
        voltronic.reply_text(b"(239.2 \xb3" + voltronic.crc(b"(239.2 \xb3") + b"\r", "QPIGS")
    assert bad.value.reason == "payload"
    with pytest.raises(SourceError) as bad:  # ASCII, CRC valid, a letter where a number belongs
        pi30.status(good.replace("53.20", "53.2O"))
    assert bad.value.reason == "payload"
    with pytest.raises(SourceError) as bad:  # too few fields
        pi30.status("(239.2 50.0")
    assert bad.value.reason == "payload"


def test_line_noise_before_the_reply_is_skipped_but_the_crc_still_decides() -> None:
    frame = voltronic.request("(B")
    assert voltronic.reply_text(b"\xff\x00" + frame, "QMOD") == "(B"
    with pytest.raises(SourceError) as bad:
        voltronic.reply_text(b"\xff" + frame[:-2] + b"\x00\r", "QMOD")
    assert bad.value.reason == "crc"


def test_modbus_bytes_that_are_voltronic_are_named() -> None:
    assert voltronic.sniff(b"(NAKss\r") == "the inverter answered in PI30 ASCII; set protocol: pi30"
    assert voltronic.sniff(bytes.fromhex("0103020003f845")) is None


def test_hid_reports_are_8_bytes_padded() -> None:
    assert reports(voltronic.request("QPIGS")) == [b"QPIGS\xb7\xa9\r"]  # exactly one report
    assert reports(b"^P007PIRI\xee\x38\r") == [b"^P007PIR", b"I\xee\x38\r\x00\x00\x00\x00"]


@FUZZ
@given(st.binary(max_size=200))
def test_framing_never_crashes(data: bytes) -> None:
    try:
        text = voltronic.reply_text(data, "Q")
    except SourceError as exc:
        assert exc.reason in {"protocol", "crc", "nak", "payload"}
    else:
        assert text.isprintable()
    voltronic.sniff(data)


@FUZZ
@given(st.sampled_from(DECODERS), st.text(alphabet="()^D0123456789.,- ABLNKSPI", max_size=160))
def test_decoders_give_values_or_a_clean_error(decoder: object, text: str) -> None:
    assert callable(decoder)
    try:
        values = decoder(text)
    except SourceError as exc:
        assert exc.reason in {"protocol", "payload"}
        return
    for d in values:
        assert d.text is not None or d.value is not None


@FUZZ
@given(
    st.lists(st.integers(0, 9999), min_size=21, max_size=24),
    st.floats(0, 300, allow_nan=False).map(lambda v: round(v, 1)),
)
def test_qpigs_round_trip(numbers: list[int], volts: float) -> None:
    parts = [f"{n:04d}" for n in numbers]
    parts[0], parts[8], parts[10] = f"{volts:05.1f}", "53.20", "050"
    parts[1] = parts[3] = "50.0"
    parts[2] = "230.0"
    parts[16], parts[20] = "00010110", "010"
    if len(parts) > 21:
        parts[21] = "1"  # MAX: feed to grid enabled
    frame = voltronic.request("(" + " ".join(parts))
    decoded = pi30.status(voltronic.reply_text(frame, "QPIGS"))
    values = by_name(decoded)
    assert values["mains_voltage"] == volts
    assert values["battery_current"] == numbers[9] - numbers[15]
    flags = {
        f: on for d in decoded if d.spec.metric == "status_flags" for f, on in d.flags_set().items()
    }
    assert flags["load_on"] and flags["charging"] and flags["scc_charging"]
    assert not flags["ac_charging"] and flags["switched_on"] and not flags["charging_to_float"]
    assert flags.get("feed_to_grid_enabled") is (True if len(parts) > 21 else None)
    if len(parts) > 23:
        assert values["feed_to_grid_power"] == numbers[23]
