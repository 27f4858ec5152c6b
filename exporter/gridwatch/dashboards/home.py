"""Home: the one screen — grid, power, price, cost, battery, PV, next outage, alerts."""

from __future__ import annotations

from gridwatch.dashboards.common import (
    AREA,
    BAT,
    BATTERIES,
    BATTERY,
    CURRENCY,
    GRID,
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
    SITE_VAR,
    SOC,
    A,
    C,
    M,
    Q,
    day_high,
)
from gridwatch.dashboards.model import (
    BETWEEN_LEVELS,
    Dashboard,
    Row,
    Target,
    level_from,
    link,
    sel,
    steps,
)
from gridwatch.dashboards.panels import alert_groups, gauge, stat, timeseries

# Total price when a tariff is configured, else spot: both carry the same labels.
PRICE_NOW = (
    f"{sel('gridwatch_price_total_per_kwh', A, C)} or {sel('gridwatch_price_spot_per_kwh', A, C)}"
)


def _day_stat(name: str, stat_name: str) -> str:
    total = sel(f"gridwatch_price_day_total_{name}", A, C, 'day="today"', f'stat="{stat_name}"')
    spot = sel(f"gridwatch_price_day_spot_{name}", A, C, 'day="today"', f'stat="{stat_name}"')
    return f"{total} or {spot}"


def _period_cost(period: str) -> str:
    # Full tariff when configured, else spot only: never both (they would add up).
    cost = "gridwatch_energy_period_cost"
    base = (M, 'direction="import"', f'period="{period}"')
    total = sel(cost, *base, 'price="total"')
    spot = sel(cost, *base, 'price="spot"')
    return f"sum by (meter, currency) ({total}) or sum by (meter, currency) ({spot})"


def dashboard() -> Dashboard:
    status = Row(
        "Now",
        [
            stat(
                "Grid",
                "Is mains power there? Debounced by the exporter; 'unknown' while the inverter "
                "or meter cannot be read.",
                Target(sel("gridwatch_grid_up"), "grid", instant=True),
                mappings=GRID,
                thresholds=steps((None, "red"), (1, "green")),
                no_value="unknown",
                links=[link(OUTAGES, "Outages and grid history")],
            ),
            stat(
                "Import / export now",
                "Net power at the P1 meter: positive = importing from the grid, negative = "
                "exporting.",
                Target(sel("gridwatch_p1_power_watts", M), "{{meter}}", instant=True),
                unit="watt",
                thresholds=steps((None, "green"), (0, "blue"), (3000, "yellow"), (8000, "red")),
                graph="area",
                links=[link(GRID_UID, "Grid & phases")],
            ),
            stat(
                "Price now ($currency/kWh)",
                "What an imported kWh costs this quarter hour (all fees and VAT with a tariff, "
                "else spot). Yellow above today's mean, red above halfway to today's maximum.",
                Target(PRICE_NOW, "{{area}}", instant=True),
                # One series each (min over areas): the levels the colours are placed between.
                Target(f"min({_day_stat('per_kwh', 'mean')})", "mean", instant=True),
                Target(
                    f"min({day_high(_day_stat('per_kwh', 'mean'), _day_stat('per_kwh', 'max'))})",
                    "high",
                    instant=True,
                ),
                unit=PRICE,
                decimals=2,
                thresholds=BETWEEN_LEVELS,
                transformations=[
                    level_from("B", "mean", "min"),
                    level_from("C", "high", "max"),
                ],
                links=[link(PRICES, "Prices & cost")],
            ),
            stat(
                "Cost today ($currency)",
                "Money paid for imported energy since local midnight.",
                Target(_period_cost("day"), "{{meter}}", instant=True),
                unit=MONEY,
                decimals=2,
                links=[link(PRICES, "Prices & cost")],
            ),
            stat(
                "Energy today",
                "kWh imported since local midnight.",
                Target(
                    sel("gridwatch_energy_period_joules", M, 'direction="import"', 'period="day"')
                    + " / 3.6e6",
                    "{{meter}}",
                    instant=True,
                ),
                unit=KWH,
                decimals=2,
            ),
            stat(
                "Active alerts",
                "Alerts firing in Prometheus right now (details in the alert list below).",
                Target('count(ALERTS{alertstate="firing"}) or vector(0)', "firing", instant=True),
                thresholds=steps((None, "green"), (1, "red")),
                unit="none",
            ),
        ],
    )
    home_power = Row(
        "Battery, solar and outages",
        [
            gauge(
                "Battery SOC",
                "State of charge of each BMS pack and of the inverter's battery.",
                Target(sel("gridwatch_battery_soc_ratio", BAT), "{{battery}}", instant=True),
                Target(
                    sel("gridwatch_inverter_battery_soc_ratio", INV), "{{inverter}}", instant=True
                ),
                unit="percentunit",
                min=0,
                max=1,
                thresholds=SOC,
                width=6,
                links=[link(BATTERIES, "Batteries")],
            ),
            stat(
                "PV now",
                "Solar power of all strings.",
                Target(
                    f"sum by (inverter) ({sel('gridwatch_inverter_pv_total_power_watts', INV)})",
                    "{{inverter}}",
                    instant=True,
                ),
                unit="watt",
                graph="area",
                links=[link(INVERTER_UID, "Inverter & battery")],
            ),
            stat(
                "Load now",
                "Household load on the inverter's AC output.",
                Target(
                    sel("gridwatch_inverter_output_power_watts", INV), "{{inverter}}", instant=True
                ),
                unit="watt",
                graph="area",
            ),
            stat(
                "Next outage",
                "Start of the planned outage in progress or of the next one (queue's schedule).",
                Target(
                    sel("gridwatch_outage_schedule_next_outage_start_timestamp_seconds", Q)
                    + " * 1000",
                    "{{queue}}",
                    instant=True,
                ),
                unit="dateTimeFromNow",
                no_value="none planned",
                links=[link(OUTAGES, "Outages")],
            ),
            stat(
                "Battery vs next outage",
                "Battery runtime at the present load minus the outage time it has to cover; "
                "negative = it will not last.",
                Target(
                    sel("gridwatch:outage_battery_runtime_margin_seconds", Q),
                    "{{queue}}",
                    instant=True,
                ),
                unit="s",
                thresholds=steps((None, "red"), (0, "green")),
            ),
            stat(
                "Source health",
                "Sources that answered their last poll / all sources.",
                Target(f"sum({sel('gridwatch_source_up')})", "up", instant=True),
                Target(f"count({sel('gridwatch_source_up')})", "all", instant=True),
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
