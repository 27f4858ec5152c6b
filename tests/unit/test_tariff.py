"""Tariff math (PROTOCOLS.md §4.4), Swedish holidays, and tariff config validation."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from gridwatch.config import ConfigError, parse_config
from gridwatch.energy.config import TariffConfig
from gridwatch.energy.holidays import is_workday, public_holidays, swedish_holidays
from gridwatch.energy.tariff import Tariff

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


def test_import_price_adds_every_fee_and_vat_once() -> None:
    config = TariffConfig.model_validate(
        {
            "vat": 0.25,
            "supplier": {"markup_per_kwh": 0.04, "variable_fees_per_kwh": 0.02},
            "grid": {"transfer_fee_per_kwh": 0.25},
            "energy_tax_per_kwh": 0.439,
        }
    )
    tariff = Tariff(config, STHLM)
    spot = 0.5
    assert tariff.import_price(spot, at(2025, 11, 3, 12)) == pytest.approx(
        (0.5 + 0.04 + 0.02 + 0.25 + 0.439) * 1.25
    )
    assert tariff.import_price(-0.2, at(2025, 11, 3, 12)) == pytest.approx(
        (-0.2 + 0.749) * 1.25
    )  # negative spot lowers the total; the fees stay


def test_amounts_quoted_with_vat_are_not_taxed_twice() -> None:
    incl = Tariff(
        TariffConfig.model_validate(
            {
                "prices_include_vat": True,
                "energy_tax_per_kwh": 0.54875,
                "grid": {"monthly_fee": 400},
            }
        ),
        STHLM,
    )
    excl = Tariff(
        TariffConfig.model_validate({"energy_tax_per_kwh": 0.439, "grid": {"monthly_fee": 320}}),
        STHLM,
    )
    assert incl.import_price(1.0, at(2025, 6, 2)) == pytest.approx(
        excl.import_price(1.0, at(2025, 6, 2))
    )
    assert incl.monthly_fees() == pytest.approx(excl.monthly_fees()) == pytest.approx(400)


def test_time_of_use_transfer_fee_lerum_example() -> None:
    # Lerum Energi 2024: 19.68 öre Nov–Mar weekdays 06–22, 15.56 öre other times (excl. VAT).
    config = TariffConfig.model_validate(
        {
            "vat": 0.0,
            "grid": {
                "transfer_fee_per_kwh": 0.1556,
                "transfer_periods": [
                    {
                        "months": [11, 12, 1, 2, 3],
                        "weekdays_only": True,
                        "hours": {"start": 6, "end": 22},
                        "price_per_kwh": 0.1968,
                    }
                ],
            },
        }
    )
    tariff = Tariff(config, STHLM)
    assert tariff.import_price(0, at(2025, 11, 3, 6)) == pytest.approx(0.1968)  # Monday 06:00
    assert tariff.import_price(0, at(2025, 11, 3, 21, 45)) == pytest.approx(0.1968)
    assert tariff.import_price(0, at(2025, 11, 3, 22)) == pytest.approx(0.1556)
    assert tariff.import_price(0, at(2025, 11, 1, 12)) == pytest.approx(0.1556)  # Saturday
    assert tariff.import_price(0, at(2025, 12, 25, 12)) == pytest.approx(0.1556)  # juldagen
    assert tariff.import_price(0, at(2025, 6, 2, 12)) == pytest.approx(0.1556)  # summer


def test_spot_linked_grid_fee() -> None:
    # Kraftringen 2024: 7.0 + 0.0561 × spot öre/kWh.
    config = TariffConfig.model_validate(
        {"vat": 0.0, "grid": {"transfer_fee_per_kwh": 0.07, "transfer_spot_factor": 0.0561}}
    )
    assert Tariff(config, STHLM).import_price(1.0, at(2025, 6, 2)) == pytest.approx(
        1.0 + 0.07 + 0.0561
    )


def test_export_compensation() -> None:
    config = TariffConfig.model_validate(
        {
            "export": {
                "spot_factor": 1.0,
                "supplier_fee_per_kwh": 0.03,
                "grid_benefit_per_kwh": 0.05,
                "tax_reduction_per_kwh": 0.60,
            }
        }
    )
    assert Tariff(config, STHLM).export_price(0.4) == pytest.approx(0.4 - 0.03 + 0.05 + 0.60)


def test_capacity_price_by_season_and_vat() -> None:
    config = TariffConfig.model_validate(
        {"capacity_fee": {"price_per_kw": 44.6, "winter_price_per_kw": 89.2}}
    )
    tariff = Tariff(config, STHLM)
    assert tariff.capacity_price_per_kw(1) == pytest.approx(89.2 * 1.25)
    assert tariff.capacity_price_per_kw(7) == pytest.approx(44.6 * 1.25)
    assert Tariff(TariffConfig(), STHLM).capacity_price_per_kw(1) is None


def test_swedish_holidays() -> None:
    assert dt.date(2025, 4, 21) in swedish_holidays(2025)  # annandag påsk (Easter 20 April)
    days = swedish_holidays(2026)
    assert dt.date(2026, 4, 3) in days  # långfredag
    assert dt.date(2026, 4, 6) in days  # annandag påsk
    assert dt.date(2026, 5, 14) in days  # Kristi himmelfärd
    assert dt.date(2026, 6, 19) in days  # midsommarafton (Friday)
    assert dt.date(2026, 10, 31) in days  # alla helgons dag (Saturday)
    assert dt.date(2026, 12, 24) in days and dt.date(2026, 12, 31) in days
    assert not is_workday(dt.date(2026, 12, 24))  # a Thursday, but julafton
    assert is_workday(dt.date(2026, 12, 23))
    assert not is_workday(dt.date(2026, 12, 23), frozenset({dt.date(2026, 12, 23)}))
    assert not any(d.weekday() == 6 and d.month == 3 for d in days)  # no plain Sundays


def test_the_same_days_as_the_former_hand_written_calendar() -> None:
    """The weekday holidays the replaced hand-written computus gave (the package agrees with it
    for 2005–2060; before 2005 it rightly has annandag pingst instead of the national day)."""
    expected = {
        2025: {
            (1, 1),
            (1, 6),
            (4, 18),
            (4, 21),
            (5, 1),
            (5, 29),
            (6, 6),
            (6, 20),
            (12, 24),
            (12, 25),
            (12, 26),
            (12, 31),
        },
        2027: {(1, 1), (1, 6), (3, 26), (3, 29), (5, 6), (6, 25), (12, 24), (12, 31)},
    }
    for year, days in expected.items():
        weekdays = {(d.month, d.day) for d in swedish_holidays(year) if d.weekday() < 5}
        assert weekdays == days, year


def test_ukrainian_holidays_come_from_the_same_package() -> None:
    assert dt.date(2021, 1, 7) in public_holidays("UA", 2021)  # Різдво (Orthodox Christmas)


def test_tariff_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"tariff": {"grid": {"transfer_fee": 0.2}}}, "g.yml")
    assert "tariff.grid.transfer_fee: unknown key" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config({"tariff": {"capacity_fee": {"price_per_kw": 50, "months": [13]}}}, "g.yml")
    assert "tariff.capacity_fee" in str(info.value) and "month 13" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config({"tariff": {"capacity_fee": {"price_per_kw": 50, "night_weight": 2}}})
    assert "tariff.capacity_fee.night_weight" in str(info.value)


def test_prices_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"prices": {"area": "SE5"}}, "g.yml")
    assert "prices.area" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config({"prices": {"area": "SE3", "nordpool_url": "ftp://x"}}, "g.yml")
    assert "prices.nordpool_url: must be an http" in str(info.value)
    config = parse_config({"prices": {"area": "NO1"}})
    assert config.prices is not None
    assert config.prices.price_currency == "NOK"
    assert config.prices.elprisetjustnu_base.startswith("https://www.hvakosterstrommen.no")


ROOT = Path(__file__).resolve().parents[2]


def yaml_blocks(path: Path, heading: str | None = None) -> list[Any]:
    """The ```yaml blocks of a Markdown file (of one ``## heading`` section when given)."""
    text = path.read_text(encoding="utf-8")
    if heading is not None:
        text = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def as_config(block: dict[str, Any]) -> dict[str, Any]:
    """A documented fragment as a config: bare tariff parts go under ``tariff:``."""
    if "prices" in block or "tariff" in block:
        return {k: v for k, v in block.items() if k in ("site", "prices", "tariff")}
    return {"tariff": block}


def test_readme_and_docs_examples_are_valid_configs() -> None:
    blocks = yaml_blocks(ROOT / "README.md", "Prices and cost") + yaml_blocks(
        ROOT / "docs" / "prices.md"
    )
    assert len(blocks) >= 5
    for block in blocks:
        parse_config(as_config(block), "example")


def test_readme_household_example_prices_a_kwh_as_the_invoice_does() -> None:
    (block,) = yaml_blocks(ROOT / "README.md", "Prices and cost")
    config = parse_config(as_config(block))
    assert config.tariff is not None and config.prices is not None
    tariff = Tariff(config.tariff, STHLM)
    # Amounts are quoted incl. moms; only the spot price gets 25 % added.
    assert tariff.import_price(1.0, at(2026, 6, 3, 12)) == pytest.approx(
        1.25 + 0.05 + 0.025 + 0.0875 + 0.45
    )
    assert tariff.monthly_fees() == pytest.approx(49 + 365)
    assert tariff.capacity_price_per_kw(1) == pytest.approx(81.25)


def test_unquoted_publication_time_is_refused_not_misread() -> None:
    # YAML reads 13:30 unquoted as 810 (base 60); it must not become 00:13:30.
    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_load("prices: {area: SE3, publish_after: 13:30}"))
    assert 'prices.publish_after: write the time in quotes, e.g. publish_after: "13:30"' in str(
        err.value
    )
    config = parse_config(yaml.safe_load('prices: {area: SE3, publish_after: "13:30"}'))
    assert config.prices is not None and config.prices.publish_after == dt.time(13, 30)
