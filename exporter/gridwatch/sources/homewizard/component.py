"""HomeWizard's contribution to the exporter: one source per P1 meter and per other device."""

from __future__ import annotations

from gridwatch.core.collector import FamilyBuilder
from gridwatch.core.component import Component, Runtime
from gridwatch.core.source import Source
from gridwatch.sources.homewizard import DEVICES, METERS
from gridwatch.sources.homewizard.batteries_source import P1BatteriesSource
from gridwatch.sources.homewizard.battery_metrics import BatteryFamilies
from gridwatch.sources.homewizard.config import HomeWizardMeter
from gridwatch.sources.homewizard.device_metrics import DeviceFamilies
from gridwatch.sources.homewizard.device_source import HomeWizardDeviceSource
from gridwatch.sources.homewizard.metrics import HomeWizardFamilies
from gridwatch.sources.homewizard.source import HomeWizardSource


def component(runtime: Runtime) -> Component:
    meters = METERS.of(runtime.config)
    devices = DEVICES.of(runtime.config)
    clock = runtime.store.now
    sources: list[Source] = []
    for meter in meters:
        if isinstance(meter, HomeWizardMeter):
            sources.append(HomeWizardSource(meter, runtime.tz, clock=clock))
            if meter.batteries:
                sources.append(P1BatteriesSource(meter, clock=clock))
        else:  # read on its own P1 port: dsmr-parser loaded only for such a meter
            from gridwatch.sources.homewizard.dsmr_source import DsmrSource  # noqa: PLC0415

            sources.append(DsmrSource(meter, clock=clock))
    sources += [HomeWizardDeviceSource(d, clock=clock) for d in devices]
    builders: list[FamilyBuilder] = [HomeWizardFamilies(meters, runtime.store)] if meters else []
    if devices:
        builders.append(DeviceFamilies(devices))
    # The battery group of a P1 meter and of a kWh meter share the families: one builder.
    with_batteries = [m.name for m in meters if isinstance(m, HomeWizardMeter) and m.batteries]
    reporting = [d.name for d in devices if d.batteries]
    if with_batteries or reporting:
        builders.append(BatteryFamilies(with_batteries, reporting))
    return Component(sources=sources, builders=builders)
