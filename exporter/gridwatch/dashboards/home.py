"""Home: the one screen — grid, power, price, cost, battery, PV, next outage, alerts."""

from __future__ import annotations

from gridwatch.dashboards.common import (
    AREA,
    BATTERIES,
    BATTERY,
    CURRENCY,
    GRID_UID,
    HEALTH,
    HOME,
    INSTANCE_VAR,
    INV,
    INVERTER,
    INVERTER_UID,
    KWH,
    METER,
    MONEY,
    OUTAGES,
    PRICE,
    PRICES,
    QUEUE,
    RED_AT_1,
    SITE_VAR,
    SOC,
    A,
    C,
    M,
    Q,
    day_high,
    day_stat,
    either,
    period_cost,
)
from gridwatch.dashboards.model import Dashboard, Row, Target, instant, link, sel, steps
from gridwatch.dashboards.panels import (
    alert_groups,
    between_levels,
    count_now,
    grid_now,
    per_device,
    power_now,
    ratio_gauge,
    stat,
    timeseries,
)

PRICE_NOW = either("gridwatch_price_total_per_kwh", "gridwatch_price_spot_per_kwh", A, C)


def dashboard() -> Dashboard:
    status = Row(
        "Now",
        [
            grid_now(
                "Is mains power there? Debounced by the exporter; 'unknown' while the inverter "
                "or meter cannot be read.",
                links=[link(OUTAGES, "Outages and grid history")],
            ),
            power_now(
                "Import / export now",
                "Net power at the P1 meter: positive = importing from the grid, negative = "
                "exporting.",
                per_device("gridwatch_p1_power_watts", METER),
                thresholds=steps((None, "green"), (0, "blue"), (3000, "yellow"), (8000, "red")),
                links=[link(GRID_UID, "Grid & phases")],
            ),
            between_levels(
                "Price now ($currency/kWh)",
                "What an imported kWh costs this quarter hour (all fees and VAT with a tariff, "
                "else spot). Yellow above today's mean, red above halfway to today's maximum.",
                instant(PRICE_NOW, "{{area}}"),
                # One series each (min over areas): the levels the colours are placed between.
                instant(f"min({day_stat('today', 'mean')})", "mean"),
                instant(
                    f"min({day_high(day_stat('today', 'mean'), day_stat('today', 'max'))})",
                    "high",
                ),
                unit=PRICE,
                decimals=2,
                links=[link(PRICES, "Prices & cost")],
            ),
            stat(
                "Cost today ($currency)",
                "Money paid for imported energy since local midnight.",
                instant(period_cost("day"), "{{meter}}"),
                unit=MONEY,
                decimals=2,
                links=[link(PRICES, "Prices & cost")],
            ),
            stat(
                "Energy today",
                "kWh imported since local midnight.",
                instant(
                    sel("gridwatch_energy_period_joules", M, 'direction="import"', 'period="day"')
                    + " / 3.6e6",
                    "{{meter}}",
                ),
                unit=KWH,
                decimals=2,
            ),
            stat(
                "Active alerts",
                "Alerts firing in Prometheus right now (details in the alert list below).",
                count_now('ALERTS{alertstate="firing"}', "firing"),
                thresholds=RED_AT_1,
                unit="none",
            ),
        ],
    )
    home_power = Row(
        "Battery, solar and outages",
        [
            ratio_gauge(
                "Battery SOC",
                "State of charge of each BMS pack and of the inverter's battery.",
                per_device("gridwatch_battery_soc_ratio", BATTERY),
                per_device("gridwatch_inverter_battery_soc_ratio", INVERTER),
                thresholds=SOC,
                width=6,
                links=[link(BATTERIES, "Batteries")],
            ),
            power_now(
                "PV now",
                "Solar power of all strings.",
                instant(
                    f"sum by (inverter) ({sel('gridwatch_inverter_pv_total_power_watts', INV)})",
                    "{{inverter}}",
                ),
                links=[link(INVERTER_UID, "Inverter & battery")],
            ),
            power_now(
                "Load now",
                "Household load on the inverter's AC output.",
                per_device("gridwatch_inverter_output_power_watts", INVERTER),
            ),
            stat(
                "Next outage",
                "Start of the planned outage in progress or of the next one (queue's schedule).",
                instant(
                    sel("gridwatch_outage_schedule_next_outage_start_timestamp_seconds", Q)
                    + " * 1000",
                    "{{queue}}",
                ),
                unit="dateTimeFromNow",
                no_value="none planned",
                links=[link(OUTAGES, "Outages")],
            ),
            stat(
                "Battery vs next outage",
                "Battery runtime at the present load minus the outage time it has to cover; "
                "negative = it will not last.",
                per_device("gridwatch:outage_battery_runtime_margin_seconds", QUEUE),
                unit="s",
                thresholds=steps((None, "red"), (0, "green")),
            ),
            stat(
                "Source health",
                "Sources that answered their last poll / all sources.",
                instant(f"sum({sel('gridwatch_source_up')})", "up"),
                instant(f"count({sel('gridwatch_source_up')})", "all"),
                links=[link(HEALTH, "gridwatch health")],
                width=2,
                unit="none",
            ),
        ],
    )
    history = Row(
        "Today",
        [
            timeseries(
                "Power",
                "Grid import (+) / export (−) at the meter, household load, solar and battery "
                "(+ charging).",
                Target(sel("gridwatch_p1_power_watts", M), "grid {{meter}}"),
                Target(sel("gridwatch_inverter_output_power_watts", INV), "load {{inverter}}"),
                Target(sel("gridwatch_inverter_pv_total_power_watts", INV), "PV {{inverter}}"),
                Target(sel("gridwatch_inverter_battery_power_watts", INV), "battery {{inverter}}"),
                unit="watt",
            ),
            alert_groups(
                "Alerts (Alertmanager)",
                "What Alertmanager is handling now: firing alerts grouped as the receiver gets "
                "them. Silence them in Grafana's Alerting → Silences or in Alertmanager.",
                height=8,
            ),
        ],
    )
    return Dashboard(
        HOME,
        "gridwatch · Home",
        "The one screen: grid, power, price, cost, battery, solar, next outage and alerts.",
        [status, home_power, history],
        [SITE_VAR, INSTANCE_VAR, METER, AREA, CURRENCY, INVERTER, BATTERY, QUEUE],
        time_from="now-24h",
        refresh="30s",
    )
