"""The collector's exposition, parsed back with prometheus_client's parser."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om

from gridwatch.core.collector import GridwatchCollector
from gridwatch.core.server import make_registry
from gridwatch.core.source import SourceError, SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sources.homewizard.config import HomeWizardMeter
from gridwatch.sources.homewizard.metrics import HomeWizardFamilies
from gridwatch.sources.homewizard.parse import parse_measurement
from tests.helpers import PROJECT_FIXTURES, Samples, load_json, names, parse_exposition, value

FIX = PROJECT_FIXTURES / "homewizard"
KEY = SourceKey("homewizard", "home")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def setup(clock: Clock, **meter: object) -> tuple[StateStore, HomeWizardFamilies, object]:
    store = StateStore(clock)
    config = HomeWizardMeter.model_validate(
        {"name": "home", "host": "h", "interval": "10s", **meter}
    )
    families = HomeWizardFamilies([config], store)
    store.register(KEY, config.staleness)
    registry = make_registry(GridwatchCollector(store, [families]))
    return store, families, registry


def feed(store: StateStore, clock: Clock, fixture: str, **override: object) -> None:
    data = load_json(FIX / fixture) | override
    api = "v2" if fixture.startswith("v2") else "v1"
    store.success(KEY, parse_measurement(data, api=api, received_at=clock.now), 0.01)


def scrape(registry: object) -> Samples:
    return parse_exposition(generate_latest(registry).decode())  # type: ignore[arg-type]


def test_full_three_phase_reading(clock: Clock) -> None:
    store, _, registry = setup(clock, fuse_amperes=20)
    feed(store, clock, "v1_3phase_import_export.json")
    s = scrape(registry)
    assert value(s, "gridwatch_p1_power_watts", meter="home") == -1250
    assert value(s, "gridwatch_p1_phase_current_amperes", meter="home", phase="l1") == -8.894
    assert value(s, "gridwatch_p1_phase_voltage_volts", meter="home", phase="l3") == 232.4
    assert value(s, "gridwatch_p1_frequency_hertz", meter="home") == 50.012
    assert value(
        s, "gridwatch_p1_energy_joules_total", meter="home", direction="import"
    ) == pytest.approx(8123.456 * 3.6e6)
    assert value(
        s, "gridwatch_p1_tariff_energy_joules_total", meter="home", direction="export", tariff="2"
    ) == pytest.approx(1000.125 * 3.6e6)
    assert value(s, "gridwatch_p1_voltage_sags_total", meter="home", phase="l1") == 3
    assert value(s, "gridwatch_p1_power_failures_total", meter="home") == 7
    assert value(s, "gridwatch_p1_long_power_failures_total", meter="home") == 2
    assert value(s, "gridwatch_p1_average_power_15m_watts", meter="home") == 812
    assert value(s, "gridwatch_p1_monthly_power_peak_watts", meter="home") == 5321
    assert value(s, "gridwatch_p1_phase_imbalance_amperes", meter="home") == pytest.approx(
        8.894 - 1.721
    )
    assert value(s, "gridwatch_p1_phase_load_ratio", meter="home", phase="l1") == pytest.approx(
        8.894 / 20
    )
    assert value(s, "gridwatch_p1_fuse_amperes", meter="home") == 20
    assert value(s, "gridwatch_p1_phase_imbalance_warning_amperes", meter="home") == 5
    assert value(s, "gridwatch_p1_phase_imbalance_critical_amperes", meter="home") == 10
    assert (
        value(
            s,
            "gridwatch_p1_external_volume_cubic_meters_total",
            meter="home",
            type="gas_meter",
            external_id="47617354455354",
        )
        == 1234.567
    )
    assert (
        value(
            s,
            "gridwatch_p1_external_energy_joules_total",
            meter="home",
            type="heat_meter",
            external_id="48656174",
        )
        == 12.5e9
    )
    assert (
        value(
            s,
            "gridwatch_p1_meter_info",
            meter="home",
            api="v1",
            meter_model="ISKRA 2M550E-1011",
            protocol_version="50",
        )
        == 1
    )
    assert value(s, "gridwatch_source_up", source="homewizard", device="home") == 1
    assert value(s, "gridwatch_source_updates_total", source="homewizard", device="home") == 1
    assert any(n == "gridwatch_build_info" for n in names(s))
    assert "process_resident_memory_bytes" in names(s)


def test_absent_fields_produce_no_series(clock: Clock) -> None:
    store, _, registry = setup(clock)
    feed(store, clock, "v1_sweden_single_tariff.json")
    s = scrape(registry)
    for absent in (
        "gridwatch_p1_frequency_hertz",
        "gridwatch_p1_active_tariff",
        "gridwatch_p1_voltage_sags_total",
        "gridwatch_p1_power_failures_total",
        "gridwatch_p1_average_power_15m_watts",
        "gridwatch_p1_monthly_power_peak_watts",
        "gridwatch_p1_measurement_timestamp_seconds",
        "gridwatch_p1_current_amperes",
        "gridwatch_p1_external_volume_cubic_meters_total",
    ):
        assert absent not in names(s), absent
    assert (
        value(
            s,
            "gridwatch_p1_tariff_energy_joules_total",
            meter="home",
            direction="import",
            tariff="1",
        )
        is not None
    )
    assert (
        value(
            s,
            "gridwatch_p1_tariff_energy_joules_total",
            meter="home",
            direction="import",
            tariff="2",
        )
        is None
    )
    assert value(s, "gridwatch_p1_phase_imbalance_amperes", meter="home") == pytest.approx(
        12.7 - 1.9
    )


def test_single_phase_has_no_imbalance(clock: Clock) -> None:
    store, _, registry = setup(clock)
    feed(store, clock, "v2_1phase_no_extras.json")
    s = scrape(registry)
    assert "gridwatch_p1_phase_imbalance_amperes" not in names(s)
    assert value(s, "gridwatch_p1_phase_current_amperes", meter="home", phase="l1") == 5.293
    assert {labels for n, labels in s if n == "gridwatch_p1_phase_power_watts"} == {
        frozenset({("meter", "home"), ("phase", "l1")})
    }


def test_peak_between_scrapes_is_not_missed(clock: Clock) -> None:
    store, _, registry = setup(clock)
    for current in (7.8, 24.5, 9.0):  # a 1-second spike between two scrapes
        feed(store, clock, "v2_3phase_measurement.json", current_l1_a=current)
        clock.now += 1
    s = scrape(registry)
    assert value(s, "gridwatch_p1_phase_current_peak_amperes", meter="home", phase="l1") == 24.5
    assert value(s, "gridwatch_p1_phase_current_amperes", meter="home", phase="l1") == 9.0
    # The next window starts at the latest value.
    s = scrape(registry)
    assert value(s, "gridwatch_p1_phase_current_peak_amperes", meter="home", phase="l1") == 9.0


def test_stale_reading_disappears_but_health_and_config_stay(clock: Clock) -> None:
    store, _, registry = setup(clock)  # 10 s interval → 30 s staleness
    feed(store, clock, "v2_3phase_measurement.json")
    clock.now += 29
    assert "gridwatch_p1_power_watts" in names(scrape(registry))
    store.failure(KEY, SourceError("timeout", "no answer"))
    clock.now += 2
    s = scrape(registry)
    assert not {
        n
        for n in names(s)
        if n.startswith("gridwatch_p1_") and "fuse" not in n and "imbalance_" not in n
    }
    assert value(s, "gridwatch_source_up", source="homewizard", device="home") == 0
    assert (
        value(
            s, "gridwatch_source_errors_total", source="homewizard", device="home", reason="timeout"
        )
        == 1
    )
    assert value(s, "gridwatch_p1_fuse_amperes", meter="home") == 16
    feed(store, clock, "v2_3phase_measurement.json")
    s = scrape(registry)
    assert value(s, "gridwatch_p1_power_watts", meter="home") == 2400
    assert value(s, "gridwatch_source_up", source="homewizard", device="home") == 1


def test_openmetrics_exposition_is_valid(clock: Clock) -> None:
    store, _, registry = setup(clock)
    feed(store, clock, "v1_3phase_import_export.json")
    text = generate_openmetrics(registry).decode()  # type: ignore[arg-type]
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in parse_om(text)}
    assert families["gridwatch_p1_energy_joules"].type == "counter"
    assert families["gridwatch_p1_meter"].type == "info"


def test_every_family_has_help(clock: Clock) -> None:
    store, _, registry = setup(clock)
    feed(store, clock, "v1_3phase_import_export.json")
    text = generate_latest(registry).decode()  # type: ignore[arg-type]
    helps = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
    types = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert helps == types
    for line in text.splitlines():
        if line.startswith("# HELP gridwatch_"):
            assert len(line.split(" ", 3)[3]) > 15, line
