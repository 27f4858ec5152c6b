"""Units, thresholds, value mappings, variables and price queries shared by several dashboards."""

from __future__ import annotations

from gridwatch.dashboards.model import (
    INSTANCE_VAR,
    SITE,
    SITE_VAR,
    Variable,
    device_var,
    mapping,
    sel,
    steps,
)

KWH = "kwatth"  # energy: joules ÷ 3.6e6 in the query, shown as kWh
PRICE = "suffix:/kWh"  # money per kWh; the panel title names the currency ($currency)
MONEY = "none"

# EN 50160: 230 V ± 10 %; the band the earlier P1 tool drew and grid operators must keep.
VOLTAGE = steps((None, "red"), (207, "green"), (253, "red"))
# The earlier inverter tool's battery colours: ≥ 80 % green, ≥ 50 % yellow, ≥ 20 % orange.
SOC = steps((None, "red"), (0.2, "orange"), (0.5, "yellow"), (0.8, "green"))
# Two-state colours: a count or flag of 1 or more is bad (red, orange), or an up flag is good.
RED_AT_1 = steps((None, "green"), (1, "red"))
ORANGE_AT_1 = steps((None, "green"), (1, "orange"))
GREEN_AT_1 = steps((None, "red"), (1, "green"))
GRID = mapping({"1": ("Grid up", "green"), "0": ("Grid DOWN", "red")})
ON_OFF = mapping({"1": ("on", "green"), "0": ("off", "transparent")})
PROBLEM = mapping({"0": ("ok", "transparent"), "1": ("set", "red")})

METER = device_var("meter", "P1 meter", "gridwatch_p1_fuse_amperes")
AREA = device_var("area", "Price area", "gridwatch_price_day_slots")
CURRENCY = Variable(
    "currency",
    "Currency",
    "gridwatch_price_spot_per_kwh",
    "currency",
    (SITE, 'area=~"$area"'),
)
INVERTER = device_var("inverter", "Inverter", "gridwatch_inverter_info")
BATTERY = device_var("battery", "Battery", "gridwatch_battery_info")
QUEUE = device_var("queue", "Outage queue", "gridwatch_outage_schedule_info")

__all__ = ["INSTANCE_VAR", "SITE_VAR"]

M = 'meter=~"$meter"'
A = 'area=~"$area"'
C = 'currency=~"$currency"'
INV = 'inverter=~"$inverter"'
BAT = 'battery=~"$battery"'
Q = 'queue=~"$queue"'

# Dashboard uids fix the URLs (/d/<uid>); panels link to each other through them.
HOME = "gridwatch-home"
GRID_UID = "gridwatch-grid"
PRICES = "gridwatch-prices"
INVERTER_UID = "gridwatch-inverter"
BATTERIES = "gridwatch-batteries"
OUTAGES = "gridwatch-outages"
HEALTH = "gridwatch-health"


def either(total: str, spot: str, *matchers: str) -> str:
    """The total-price series when a tariff is configured, else the spot one (same labels)."""
    return f"{sel(total, *matchers)} or {sel(spot, *matchers)}"


def day_stat(day: str, stat_name: str) -> str:
    """A statistic (min, mean, max) of the ``day``'s slot prices."""
    return either(
        "gridwatch_price_day_total_per_kwh",
        "gridwatch_price_day_spot_per_kwh",
        A,
        C,
        f'day="{day}"',
        f'stat="{stat_name}"',
    )


def period_cost(period: str, direction: str = "import") -> str:
    """Cost in the current local period; full tariff when configured, else spot (never both)."""
    base = ("gridwatch_energy_period_cost", M, f'direction="{direction}"', f'period="{period}"')
    total, spot = sel(*base, 'price="total"'), sel(*base, 'price="spot"')
    return f"sum by (meter, currency) ({total}) or sum by (meter, currency) ({spot})"


def day_high(mean: str, maximum: str) -> str:
    """Halfway between a day's mean and maximum price. The two sides differ in their ``stat``
    label, so they are matched ignoring it; the parentheses keep each ``total or spot`` whole."""
    return f"(({mean}) + ignoring(stat) ({maximum})) / 2"
