"""The DSMR dialects gridwatch offers (docs/homewizard.md) against dsmr-parser: each names one of
its specifications, and a Swedish and a Belgian telegram give the reading the docs promise."""

from __future__ import annotations

import datetime as dt

import pytest
from dsmr_parser import telegram_specifications

from gridwatch.sources.homewizard.config import DSMR_DIALECTS
from gridwatch.sources.homewizard.dsmr_parse import DsmrParser, TelegramError
from tests.helpers import PROJECT_FIXTURES

FOLDER = PROJECT_FIXTURES / "dsmr"


def telegram(name: str) -> str:
    return (FOLDER / name).read_bytes().decode("ascii")


def utc(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize("dialect", sorted(DSMR_DIALECTS))
def test_every_dialect_is_a_dsmr_parser_specification(dialect: str) -> None:
    spec = getattr(telegram_specifications, DSMR_DIALECTS[dialect])
    assert spec["objects"]
    DsmrParser(dialect)  # builds without a telegram


def test_encrypted_dialects_are_not_offered() -> None:
    # Luxembourg's Smarty and Austria's Energienetze Steiermark need a decryption key.
    offered = set(DSMR_DIALECTS.values())
    assert not offered & {"LUXEMBOURG_SMARTY", "AUSTRIA_ENERGIENETZE_STEIERMARK"}


def test_a_swedish_han_telegram() -> None:
    r = DsmrParser("sweden").parse(telegram("sweden.txt"), received_at=0)
    assert (r.energy_import_kwh, r.energy_export_kwh) == (6678.394, 12.25)
    assert r.import_tariffs_kwh == {} and r.tariff is None  # Swedish meters have no tariffs
    assert r.power_w == pytest.approx(1727.0)
    assert {p: v.voltage_v for p, v in r.phases.items()} == {"l1": 227.6, "l2": 225.2, "l3": 233.3}
    assert {p: v.current_a for p, v in r.phases.items()} == {"l1": 4.5, "l2": 2.0, "l3": 1.6}
    assert r.phases["l3"].power_w == pytest.approx(354.0)
    assert r.any_power_fail_count is None  # absent, never a zero
    # 02:20:03 W: the second 02:20 of 2025-10-26 (CET), not the first (CEST).
    assert r.meter_timestamp == utc("2025-10-26T01:20:03")


def test_a_belgian_fluvius_telegram() -> None:
    r = DsmrParser("belgium").parse(telegram("belgium.txt"), received_at=0)
    assert r.import_tariffs_kwh == {1: 123.034, 2: 215.758}
    assert r.export_tariffs_kwh == {1: 10.0, 2: 20.011}
    assert r.energy_import_kwh == pytest.approx(338.792)  # no total sent: the tariffs' sum
    assert r.tariff == 2
    assert r.average_power_15m_w == pytest.approx(2351.0)
    assert r.monthly_power_peak_w == pytest.approx(4589.0)
    assert r.monthly_power_peak_timestamp == utc("2025-10-26T00:15:00")  # 02:15 S, the first
    [gas] = r.external
    assert (gas.type, gas.value, gas.unit) == ("gas_meter", 112.384, "m3")
    assert gas.timestamp == utc("2025-10-26T01:00:00")  # 02:00 W, the second


def test_a_swedish_telegram_with_a_changed_digit_fails_its_crc() -> None:
    bad = telegram("sweden.txt").replace("(227.6*V)", "(927.6*V)")
    with pytest.raises(TelegramError) as caught:
        DsmrParser("sweden").parse(bad, received_at=0)
    assert caught.value.reason == "crc"
