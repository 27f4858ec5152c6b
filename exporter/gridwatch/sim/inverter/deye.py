"""A simulated Deye/Sunsynk hybrid: the SMG-II scenario's power flows in Deye's registers.

The physics (PV curve, load, battery integrated from the flows, outages) are the shared
``InverterDevice`` scenario; this adds what a Deye reports beyond it: grid import/export
(a hybrid exports PV surplus when the battery is full and takes the load from the grid rather
than the battery at night), per-phase values on three-phase units, the grid relay, today's and
total energy counters, and the inverter's own sign (the map's negative scale flips it).
The HV three-phase unit (SG01HP3) carries a high-voltage pack: the same flows at about 400 V
(8 × 51.2 V modules), a larger PV array and battery, and its BMS limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gridwatch.sim.inverter.device import InverterDevice, Scenario
from gridwatch.sources.inverter.regmap import RegisterMap, load_shipped

MODELS = {"deye-1p": "deye_sg0xlp1", "deye-3p": "deye_sg0xlp3", "deye-3p-hv": "deye_sg01hp3"}
# Device type register 0x0000 each shipped map's unit reports (§3.4).
DEVICE_TYPES = {"deye_sg0xlp1": 3, "deye_sg0xlp3": 5, "deye_sg01hp3": 6}
HV_DEVICE_TYPE = 6
_HV_SETTINGS: dict[str, float | str] = {
    "rated_power": 12000.0,
    "zero_export_power": 20.0,
    "battery_shutdown_voltage": 360.0,
    "battery_restart_voltage": 392.0,
    "battery_low_voltage": 368.0,
    "grid_charge_start_voltage": 376.0,
    "bms_charge_voltage": 432.0,
    "bms_discharge_voltage": 352.0,
    "bms_charge_current_limit": 25,
    "bms_discharge_current_limit": 25,
}
_PHASES = ("l1", "l2", "l3")
_SHARE = (0.45, 0.33, 0.22)  # a household's load is never balanced


class DeyeDevice(InverterDevice):
    def __init__(
        self,
        regmap: RegisterMap,
        scenario: Scenario | None = None,
        *,
        unit: int = 1,
        serial: str = "2306241234",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(regmap, scenario, unit=unit, serial=serial, clock=clock)
        self._energy: dict[str, float] = {}  # flow → kWh since the start
        self._at: float | None = None
        fallback = 5 if regmap.by_name("mains_voltage_l1") else 3  # a user's own map
        self.device_type = DEVICE_TYPES.get(regmap.model, fallback)

    @property
    def hv(self) -> bool:
        return self.device_type == HV_DEVICE_TYPE

    def values(self) -> dict[str, float | str]:
        base = super().values()
        grid = self.grid_up
        load = float(base["output_power"])
        battery = float(base["battery_power"])  # + charging
        pv = float(base["pv_total_power"])
        # Off grid, load − PV − discharge balances to 0; on grid the balance crosses the meter.
        mains = load + battery - pv if grid else 0.0
        mains_v = float(base["mains_voltage"])
        now = self.scenario.elapsed(self.clock())
        dt_h = 0.0 if self._at is None else max(0.0, now - self._at) / 3600
        self._at = now
        flows = {
            "pv": pv,
            "load": load,
            "grid_import": max(mains, 0.0),
            "grid_export": max(-mains, 0.0),
            "battery_charge": max(battery, 0.0),
            "battery_discharge": max(-battery, 0.0),
        }
        for flow, watts in flows.items():
            self._energy[flow] = self._energy.get(flow, 0.0) + watts * dt_h / 1000
        values: dict[str, float | str] = {
            **base,
            "device_type": self.device_type,
            "operating_mode": 2,  # normal
            "mains_power": mains,
            "inverter_power": load - mains,
            "grid_connected": 1.0 if grid else 0.0,
            "fault_code": 0,
            "work_mode": 1,
            "grid_charge_start_voltage": 49.0,
            "grid_charge_start_soc": 30,
            "grid_charge_current": 40,
            "battery_shutdown_voltage": 46.0,
            "battery_restart_voltage": 52.0,
            "battery_low_voltage": 47.0,
        }
        if self.hv:
            # 8 × 51.2 V modules: 384 V empty to 432 V full, a little more while charging.
            volts = 384.0 + 0.48 * float(base["battery_soc"]) + battery / 500
            values |= {**_HV_SETTINGS, "battery_voltage": volts, "battery_current": battery / volts}
        for flow, kwh in self._energy.items():
            values[f"{flow}_energy_total"] = kwh
            values[f"{flow}_energy_today"] = kwh  # the simulator's day starts with it
        for phase, share in zip(_PHASES, _SHARE, strict=True):
            values[f"mains_voltage_{phase}"] = mains_v
            values[f"mains_power_{phase}"] = mains * share
            values[f"output_voltage_{phase}"] = 230.0 if load else 0.0
            values[f"output_power_{phase}"] = load * share
            values[f"inverter_power_{phase}"] = (load - mains) * share
            values[f"inverter_current_{phase}"] = (load - mains) * share / 230
        values.update(self.overrides)
        return values


def deye_device(
    kind: str, scenario: Scenario | None = None, clock: Callable[[], float] = time.time
) -> DeyeDevice:
    """``deye-1p``, ``deye-3p`` or ``deye-3p-hv``: a device with its shipped map."""
    if scenario is None and kind == "deye-3p-hv":
        scenario = hv_scenario(clock())
    return DeyeDevice(load_shipped(MODELS[kind]), scenario, clock=clock)


def hv_scenario(start: float, outages: list[tuple[float, float]] | None = None) -> Scenario:
    """A larger household on an HV unit: 10 kWp, a 10 kWh pack (what an SG01HP3 powers)."""
    return Scenario(
        start=start,
        pv_peak_w=10_000.0,
        battery_capacity_wh=10_240.0,
        base_load_w=900.0,
        evening_load_w=2500.0,
        outages=outages or [],
    )
