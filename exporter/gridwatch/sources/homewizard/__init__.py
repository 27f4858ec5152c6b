"""The grid meter and the HomeWizard family: the P1 meter over the HomeWizard API (v1, v2 with
token, WebSocket push, pairing) or straight from its own P1 port (DSMR, ``type: dsmr``), and the
other HomeWizard devices (kWh meters, Energy Sockets, Watermeters, Plug-In Batteries)."""

from __future__ import annotations

from gridwatch.core.area import Area, Section
from gridwatch.sources.homewizard.config import (
    Devices,
    DsmrMeter,
    HomeWizardDevice,
    HomeWizardMeter,
    Meters,
)

METERS = Section[list[HomeWizardMeter | DsmrMeter]]("meters", Meters, list)
DEVICES = Section[list[HomeWizardDevice]]("homewizard_devices", Devices, list)

AREA = Area(
    name="homewizard",
    component="gridwatch.sources.homewizard.component",
    wanted=lambda config: bool(METERS.of(config)) or bool(DEVICES.of(config)),
    sections=(METERS, DEVICES),
    demo_part="gridwatch.sim.homewizard.demo",
    error_reasons={"api_disabled": "the device's local API is switched off in the app"},
    # A P1 meter and a kWh meter both report battery groups under their own name.
    shared_names=("meters", "homewizard_devices"),
)
