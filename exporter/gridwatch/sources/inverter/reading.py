"""One poll of an inverter: every register of its map, decoded, plus what the battery says."""

from __future__ import annotations

from dataclasses import dataclass

from gridwatch.energy.battery import BatteryState
from gridwatch.sources.inverter.regmap import Decoded


@dataclass(frozen=True, slots=True)
class InverterReading:
    received_at: float
    model: str  # the register map's name
    values: tuple[Decoded, ...]
    battery_capacity_wh: float | None = None  # from the config, for runtime estimates

    def first(self, metric: str) -> Decoded | None:
        """The register of this role; on three-phase maps the total (no phase) before L1."""
        found = [d for d in self.values if d.spec.metric == metric]
        return next((d for d in found if d.spec.phase is None), found[0] if found else None)

    def number(self, metric: str) -> float | None:
        found = self.first(metric)
        return found.value if found is not None else None

    def of(self, metric: str) -> list[Decoded]:
        return [d for d in self.values if d.spec.metric == metric]

    @property
    def serial_number(self) -> str | None:
        found = self.first("serial_number")
        return found.text or None if found is not None else None

    def mains_present(
        self, min_voltage: float, min_frequency: float, max_frequency: float
    ) -> bool | None:
        """Mains available at the input (whether used or not); None if the map cannot tell.

        Voltage and frequency decide, never the operating mode: the real capture shows mode 3
        (off-grid) with 239.9 V on the input, i.e. mains present but unused (SBU priority).
        """
        phases = [d.value for d in self.of("mains_voltage") if d.value is not None]
        volts = max(phases) if phases else None  # three-phase: any phase with mains
        if volts is None:
            # No voltage register: the grid relay status (Deye) is the next best thing.
            connected = self.number("grid_connected")
            return None if connected is None else connected >= 1
        hertz = self.number("mains_frequency")
        frequency_ok = hertz is None or min_frequency <= hertz <= max_frequency
        return volts >= min_voltage and frequency_ok

    def battery_state(self) -> BatteryState | None:
        soc = self.number("battery_soc")
        power = self.number("battery_power")
        if power is None:
            volts, amps = self.number("battery_voltage"), self.number("battery_current")
            if volts is not None and amps is not None:
                power = volts * amps  # + charging, like the current
        load = self.number("output_power")
        if soc is None and power is None:
            return None
        soc_ratio = None if soc is None else max(0.0, min(soc, 100.0)) / 100
        capacity = self.battery_capacity_wh
        remaining = capacity * soc_ratio if capacity is not None and soc_ratio is not None else None
        return BatteryState(
            soc_ratio=soc_ratio,
            remaining_wh=remaining,
            capacity_wh=capacity,
            power_watts=power,
            load_watts=load,
        )
