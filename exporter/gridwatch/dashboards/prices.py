"""Prices & cost: slot prices today/tomorrow, spot vs total, cost and kWh per period, the
capacity fee (effektavgift)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gridwatch.dashboards.automation_panels import scheduled_loads_row
from gridwatch.dashboards.common import (
    AREA,
    CURRENCY,
    INSTANCE_VAR,
    KWH,
    METER,
    MONEY,
    PRICE,
    PRICES,
    SITE_VAR,
    A,
    C,
    M,
    day_high,
    day_stat,
    either,
    period_cost,
)
from gridwatch.dashboards.model import Dashboard, Panel, Row, Target, column, instant, override, sel
from gridwatch.dashboards.panels import barchart, organize, per_device, stat, table, timeseries

PERIODS = ("quarter", "hour", "day", "month")


def slot_prices(day: str) -> str:
    return either(
        "gridwatch_price_slot_total_per_kwh",
        "gridwatch_price_slot_spot_per_kwh",
        A,
        C,
        f'day="{day}"',
    )


# What the slot charts show without data. Tomorrow's day-ahead prices appear after the auction
# (results around 12:45 CET, on elprisetjustnu and Nord Pool by about 13:00).
NO_PRICES = {
    "today": "no prices for today (see the prices source on the gridwatch dashboard)",
    "tomorrow": "Tomorrow's prices are not published yet: usually around 13:00 CET",
}

# A slot's price and the day's levels share these labels (the levels have `stat`, not `slot`).
_DAY = "on(site, instance, area, currency, day) group_left()"
# Bar colours: each slot's price falls in exactly one of these; the level is PromQL's choice.
SLOT_LEVELS = (("below mean", "green"), ("above mean", "yellow"), ("high", "red"))


def slot_levels(day: str) -> tuple[str, str, str]:
    """The day's slot prices split by level: below the mean, from the mean up to halfway to
    the maximum, and from there up. Each keeps its price (a comparison without ``bool``
    filters), so the three stack into one bar per slot in its level's colour."""
    price, mean = f"({slot_prices(day)})", f"({day_stat(day, 'mean')})"
    high = f"({day_high(day_stat(day, 'mean'), day_stat(day, 'max'))})"
    return (
        f"{price} < {_DAY} {mean}",
        f"({price} >= {_DAY} {mean}) < {_DAY} {high}",
        f"{price} >= {_DAY} {high}",
    )


def slot_chart(day: str, title: str) -> Panel:
    names = [name for name, _ in SLOT_LEVELS]
    return barchart(
        title,
        f"Price of every quarter hour {day} (total with a tariff, else spot). Green below the "
        "day's mean, yellow above it, red in the top half between mean and maximum: run heavy "
        "loads in the green slots (the cheapest 1/2/3 h windows are listed beside).",
        *(
            Target(expr, name, instant=True, table=True)
            for expr, name in zip(slot_levels(day), names, strict=True)
        ),
        x_field="slot",
        unit=PRICE,
        decimals=2,
        stacking="normal",
        legend=True,
        overrides=[
            override(name, color={"mode": "fixed", "fixedColor": colour})
            for name, colour in SLOT_LEVELS
        ],
        transformations=[
            *organize(
                "slot",
                "Value #A",
                "Value #B",
                "Value #C",
                rename={"Value #A": names[0], "Value #B": names[1], "Value #C": names[2]},
            ),
            {"id": "sortBy", "options": {"sort": [{"field": "slot", "desc": False}]}},
        ],
        no_value=NO_PRICES[day],
    )


def _so_far(title: str, description: str, per_period: Callable[[str], str], **kw: Any) -> Panel:
    """One value per current local period (quarter, hour, day, month), each named by it."""
    return stat(
        title, description, *(instant(per_period(p), p) for p in PERIODS), decimals=2, width=6, **kw
    )


def _cost_stat(direction: str, title: str, description: str) -> Panel:
    return _so_far(title, description, lambda p: period_cost(p, direction), unit=MONEY)


def _price_stat(title: str, description: str, *targets: Target) -> Panel:
    """Prices per kWh, in the currency the title names."""
    return stat(title, description, *targets, unit=PRICE, decimals=2, width=6)


def dashboard() -> Dashboard:
    slots = Row(
        "Slot prices",
        [
            slot_chart("today", "Today ($currency/kWh)"),
            slot_chart("tomorrow", "Tomorrow ($currency/kWh)"),
            _price_stat(
                "Price now ($currency/kWh)",
                "Spot (excl. VAT), total import price and export compensation of this quarter.",
                instant(sel("gridwatch_price_spot_per_kwh", A, C), "spot"),
                instant(sel("gridwatch_price_total_per_kwh", A, C), "total"),
                instant(sel("gridwatch_price_export_per_kwh", A, C), "export"),
            ),
            _price_stat(
                "Today min / mean / max ($currency/kWh)",
                "Statistics of today's slot prices (total with a tariff, else spot).",
                *(instant(day_stat("today", s), s) for s in ("min", "mean", "max")),
            ),
            stat(
                "Cheapest window starts",
                "Start of the cheapest 1, 2 and 3 hour windows in the next 24 h of known prices: "
                "when to run the dishwasher, washer or EV charger.",
                instant(
                    sel("gridwatch_price_cheapest_window_start_timestamp_seconds", A) + " * 1000",
                    "{{hours}} h",
                ),
                unit="dateTimeAsLocalNoDateIfToday",
                width=6,
            ),
            _price_stat(
                "Cheapest window mean ($currency/kWh)",
                "Mean price of each cheapest window.",
                instant(sel("gridwatch_price_cheapest_window_mean_per_kwh", A, C), "{{hours}} h"),
            ),
        ],
    )
    curve = Row(
        "Price and running cost",
        [
            timeseries(
                "Spot vs total price ($currency/kWh)",
                "The spot price and what an imported kWh really cost (fees, tax, VAT), and the "
                "export compensation, quarter by quarter.",
                Target(sel("gridwatch_price_spot_per_kwh", A, C), "spot {{area}}"),
                Target(sel("gridwatch_price_total_per_kwh", A, C), "total {{area}}"),
                Target(sel("gridwatch_price_export_per_kwh", A, C), "export {{area}}"),
                style="steps",
                unit=PRICE,
                decimals=2,
            ),
            timeseries(
                "Price with running cost today ($currency)",
                "Import price (left) and the cost accumulated since local midnight (right axis): "
                "the earlier P1 tool's 'Spotpris' and 'Ack. Kostnad'.",
                Target(
                    either("gridwatch_price_total_per_kwh", "gridwatch_price_spot_per_kwh", A, C),
                    "price",
                ),
                Target(period_cost("day"), "cost today {{meter}}"),
                style="steps",
                decimals=2,
                overrides=[
                    override("price", unit=PRICE),
                    override(
                        "cost today.*", regexp=True, custom__axisPlacement="right", unit=MONEY
                    ),
                ],
            ),
        ],
    )
    cost = Row(
        "Cost and energy",
        [
            _cost_stat(
                "import",
                "Cost so far ($currency)",
                "Money paid for imports in the current local quarter hour, hour, day and month "
                "(priced at each quarter's own price; DST-correct).",
            ),
            _cost_stat(
                "export",
                "Export earnings so far ($currency)",
                "Money earned by exports in the current local periods (with a tariff).",
            ),
            _so_far(
                "Energy so far",
                "kWh imported in the current local quarter, hour, day and month.",
                lambda p: sel(
                    "meter_direction:gridwatch_energy_kwh:period",
                    M,
                    'direction="import"',
                    f'period="{p}"',
                ),
                unit=KWH,
            ),
            stat(
                "Bill this month so far ($currency)",
                "Imports − exports + capacity fee + fixed monthly fees (the recording rule "
                "meter_currency:gridwatch_energy_bill_month_so_far).",
                instant(
                    'meter_currency:gridwatch_energy_bill_month_so_far{meter=~"$meter"}',
                    "{{meter}}",
                ),
                instant(sel("gridwatch_tariff_monthly_fees"), "fixed fees"),
                unit=MONEY,
                decimals=0,
                width=6,
            ),
            timeseries(
                "Cost per quarter hour ($currency)",
                "Import cost of each quarter hour (15-minute increase of the cost counter).",
                Target(
                    sel(
                        "meter_direction_currency:gridwatch_energy_cost:increase15m",
                        M,
                        'direction="import"',
                    ),
                    "{{meter}}",
                    interval="15m",
                ),
                style="bars",
                unit=MONEY,
                decimals=2,
            ),
            timeseries(
                "Energy per hour",
                "kWh imported and exported per hour.",
                Target(
                    sel("meter_direction:gridwatch_energy_kwh:increase1h", M),
                    "{{direction}} {{meter}}",
                    interval="1h",
                ),
                style="bars",
                unit=KWH,
            ),
            timeseries(
                "Cost per day ($currency)",
                "Import cost and net cost (import − export earnings) per rolling day.",
                Target(
                    sel(
                        "meter_direction_currency:gridwatch_energy_cost:increase1d",
                        M,
                        'direction="import"',
                    ),
                    "import {{meter}}",
                    interval="1d",
                ),
                Target(
                    sel("meter_currency:gridwatch_energy_net_cost:increase1d", M),
                    "net {{meter}}",
                    interval="1d",
                ),
                style="bars",
                unit=MONEY,
                decimals=2,
            ),
            timeseries(
                "Energy per day and month",
                "kWh imported per rolling day and per rolling 30 days.",
                Target(
                    sel("meter_direction:gridwatch_energy_kwh:increase1d", M, 'direction="import"'),
                    "day {{meter}}",
                    interval="1d",
                ),
                Target(
                    sel(
                        "meter_direction:gridwatch_energy_kwh:increase30d", M, 'direction="import"'
                    ),
                    "30 days {{meter}}",
                    interval="1d",
                ),
                style="bars",
                unit=KWH,
            ),
            timeseries(
                "Average price paid ($currency/kWh)",
                "What imported kWh cost on average over the last hour, against the spot price.",
                Target(
                    sel(
                        "meter_direction_currency:gridwatch_energy_average_price_per_kwh:1h",
                        M,
                        'direction="import"',
                    ),
                    "paid {{meter}}",
                ),
                Target(sel("gridwatch_price_spot_per_kwh", A, C), "spot"),
                unit=PRICE,
                decimals=2,
                width=24,
            ),
        ],
    )
    capacity = Row(
        "Capacity fee (effektavgift)",
        [
            stat(
                "This hour so far",
                "Average import power of the current clock hour: if it beats the lowest counted "
                "peak it raises this month's fee.",
                per_device("gridwatch_capacity_current_hour_average_watts", METER),
                unit="watt",
                width=4,
            ),
            stat(
                "Billed power",
                "Mean of the month's counted peak hours: the power the fee is billed on.",
                per_device("gridwatch_capacity_billed_watts", METER),
                unit="watt",
                no_value="no complete hour yet",
                width=4,
            ),
            stat(
                "Capacity fee this month ($currency)",
                "The fee so far, incl. VAT.",
                per_device("gridwatch_capacity_fee", METER),
                unit=MONEY,
                decimals=0,
                width=4,
            ),
            table(
                "Counted peak hours this month",
                "The hours the rule counts (weighted, highest first) and when each started.",
                column(sel("gridwatch_capacity_peak_watts", M)),
                column(sel("gridwatch_capacity_peak_start_timestamp_seconds", M) + " * 1000"),
                transformations=[
                    *organize(
                        "rank",
                        "Value #A",
                        "Value #B",
                        rename={"Value #A": "W", "Value #B": "hour start"},
                    ),
                ],
                overrides=[
                    override("W", unit="watt"),
                    override("hour start", unit="dateTimeAsLocal"),
                ],
                no_value="no complete hour yet",
            ),
        ],
    )
    return Dashboard(
        PRICES,
        "gridwatch · Prices & cost",
        "Quarter-hour prices for today and tomorrow, spot vs total, cost and energy per quarter, "
        "hour, day and month, the capacity fee, and the loads scheduled by price and peak shaving.",
        [slots, curve, cost, capacity, scheduled_loads_row()],
        [SITE_VAR, INSTANCE_VAR, METER, AREA, CURRENCY],
        time_from="now-24h",
        refresh="1m",
    )
