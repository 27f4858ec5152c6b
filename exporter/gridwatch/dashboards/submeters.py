"""The Grid dashboard's "consumption by meter" row: what each HomeWizard kWh meter or socket
(EV charger, heat pump, heater) draws, the rest of the house, and what each cost this month."""

from __future__ import annotations

from gridwatch.dashboards.common import KWH, M
from gridwatch.dashboards.model import Row, Target, instant, sel
from gridwatch.dashboards.panels import bars, timeseries

DEVICE_POWER = sel("gridwatch_hw_device_power_watts")
KINDS = 'kind=~"kwh_meter|socket"'  # sub-meters of electricity (not water, not the battery)
# A sub-meter's power only where it is a kWh meter or socket: its info says which.
SUB_POWER = (
    f"sum by (device) ({DEVICE_POWER} * on (instance, device) group_left "
    f"{sel('gridwatch_hw_device_info', KINDS)})"
)


def row() -> Row:
    return Row(
        "Consumption by meter",
        [
            timeseries(
                "Consumption by meter",
                "Power through each kWh meter or Energy Socket (the EV charger, heat pump, …) "
                "and the rest of the house: the grid import minus the sub-meters.",
                Target(SUB_POWER, "{{device}}"),
                Target(f"sum({sel('gridwatch_p1_power_watts', M)}) - sum({SUB_POWER})", "rest"),
                unit="watt",
                width=16,
            ),
            bars(
                "Sub-meters this month",
                "Energy through each sub-meter since the start of the month (local time), "
                "priced at the real quarter-hour prices in the cost panels.",
                instant(
                    sel(
                        "gridwatch_submeter_energy_period_joules",
                        'direction="import"',
                        'period="month"',
                    )
                    + " / 3.6e6",
                    "{{device}}",
                ),
                unit=KWH,
                decimals=1,
                width=8,
            ),
        ],
    )
