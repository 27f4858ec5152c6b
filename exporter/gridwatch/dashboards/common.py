"""Units, thresholds, value mappings and variables shared by several dashboards."""

from __future__ import annotations

from gridwatch.dashboards.model import (
    INSTANCE_VAR,
    SITE,
    SITE_VAR,
    Variable,
    device_var,
    mapping,
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


def day_high(mean: str, maximum: str) -> str:
    """Halfway between a day's mean and maximum price. The two sides differ in their ``stat``
    label, so they are matched ignoring it; the parentheses keep each ``total or spot`` whole."""
    return f"(({mean}) + ignoring(stat) ({maximum})) / 2"
