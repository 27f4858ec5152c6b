"""Turn a HomeWizard device's JSON into a DeviceReading, through python-homewizard-energy's models.

The library's ``Measurement`` already maps v1 field names onto v2's, knows the kWh-meter, socket,
watermeter and battery fields, and ``Batteries``/``State`` describe the other endpoints, so we
use them rather than a second field table. Where they fall short we say so and do it here:

* ``Measurement`` decides "this is v1" by the presence of ``wifi_ssid``; a v1 payload without
  it would be read as v2 with every field dropped, so we tell it the API version we asked.
* It has no apparent/reactive *current* fields; those are read from the raw payload.
* It coerces rather than checks (``"12"`` and ``true`` become numbers), so every measured value
  is checked here first and a wrong one is a payload error naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from homewizard_energy.models import Batteries, Measurement, State
from mashumaro.exceptions import MissingField

from gridwatch.sources.homewizard.device_reading import (
    KIND_OF_PRODUCT,
    BatteryGroup,
    DeviceKind,
    DevicePhase,
    DeviceReading,
)
from gridwatch.sources.homewizard.parse import PayloadError
from gridwatch.sources.homewizard.reading import PHASES


def kind_of(product_type: str | None) -> DeviceKind | None:
    return KIND_OF_PRODUCT.get(product_type or "")


def _number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"field {name!r} should be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise PayloadError(f"field {name!r} is not a finite number")
    return float(value)


_UNITS = ("_w", "_v", "_a", "_va", "_var", "_hz", "_kwh", "_pct", "_lpm", "_m3", "_db")


def _measured(key: str) -> bool:
    """A field that holds a measured number (by its unit suffix, as HomeWizard names them)."""
    return key.endswith(_UNITS) or "power_factor" in key or key in ("cycles", "wifi_strength")


def _model[M: Measurement | Batteries | State](model: type[M], payload: dict[str, Any]) -> M:
    try:
        parsed: M = model.from_dict(payload)  # type: ignore[assignment]  # mashumaro's typing
        return parsed
    except MissingField as exc:
        raise PayloadError(f"field {exc.field_name!r} is missing") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"not a valid {model.__name__}: {exc}") from None


def parse_device_measurement(
    payload: object,
    *,
    api: str,
    product_type: str,
    received_at: float,
    state: object = None,
    batteries: object = None,
) -> DeviceReading:
    """Parse ``/api/v1/data`` or ``/api/measurement`` of a non-P1 device (plus, for a socket on v1,
    ``/api/v1/state``, and for a kWh meter ``/api/batteries``)."""
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    kind = kind_of(product_type)
    if kind is None:
        raise PayloadError(f"product type {product_type!r} is not a device gridwatch reads")
    for key, value in payload.items():
        if _measured(key):
            _number(value, key)
    raw = dict(payload)
    if api == "v1":
        raw.setdefault("wifi_ssid", None)  # the library's "this is v1" marker
    m = _model(Measurement, raw)

    def num(attr: str) -> float | None:
        return _number(getattr(m, attr), attr)

    phases: dict[str, DevicePhase] = {}
    # A 1-phase meter repeats its total as l1 (v1 active_power_l1_w): phases only on 3-phase ones.
    three_phase = any(
        getattr(m, f"{q}_{p}_{u}") is not None
        for p in ("l2", "l3")
        for q, u in (("power", "w"), ("voltage", "v"), ("current", "a"))
    )
    if kind == "kwh_meter" and three_phase:
        for phase in PHASES:
            values = DevicePhase(
                power_w=num(f"power_{phase}_w"),
                voltage_v=num(f"voltage_{phase}_v"),
                current_a=num(f"current_{phase}_a"),
                apparent_power_va=num(f"apparent_power_{phase}_va"),
                reactive_power_var=num(f"reactive_power_{phase}_var"),
                power_factor=num(f"power_factor_{phase}"),
            )
            if values != DevicePhase():
                phases[phase] = values
    cycles = num("cycles")
    return DeviceReading(
        received_at=received_at,
        api=api,
        product_type=product_type,
        kind=kind,
        power_w=num("power_w"),
        voltage_v=num("voltage_v"),
        current_a=num("current_a"),
        apparent_power_va=num("apparent_power_va"),
        reactive_power_var=num("reactive_power_var"),
        power_factor=num("power_factor"),
        frequency_hz=num("frequency_hz"),
        phases=phases,
        currents=extra_currents(payload, api),
        energy_import_kwh=num("energy_import_kwh"),
        energy_export_kwh=num("energy_export_kwh"),
        water_flow_lpm=num("active_liter_lpm"),
        water_total_m3=num("total_liter_m3"),
        state_of_charge_pct=num("state_of_charge_pct"),
        cycles=int(cycles) if cycles is not None else None,
        wifi_strength_pct=num("wifi_strength"),
        **_socket_state(state),
        batteries=parse_batteries(batteries) if batteries is not None else None,
    )


def extra_currents(payload: Mapping[str, Any], api: str) -> dict[str, float]:
    """Apparent and reactive currents (not in the library's model), keyed by v2 name."""
    found: dict[str, float] = {}
    for which in ("apparent", "reactive"):
        for suffix in ("", *(f"_{p}" for p in PHASES)):
            v2 = f"{which}_current{suffix}_a"
            key = f"active_{v2}" if api == "v1" else v2
            value = _number(payload.get(key), key)
            if value is not None:
                found[v2] = value
    return found


def _socket_state(state: object) -> dict[str, bool | None]:
    if state is None:
        return {"power_on": None, "switch_lock": None}
    if not isinstance(state, dict):
        raise PayloadError(f"state: expected a JSON object, got {type(state).__name__}")
    for key in ("power_on", "switch_lock"):
        if key in state and state[key] is not None and not isinstance(state[key], bool):
            raise PayloadError(f"field {key!r} should be true or false")
    parsed = _model(State, state)
    return {"power_on": parsed.power_on, "switch_lock": parsed.switch_lock}


def parse_batteries(payload: object) -> BatteryGroup:
    """``GET /api/batteries`` of a P1 or kWh meter."""
    if not isinstance(payload, dict):
        raise PayloadError(f"batteries: expected a JSON object, got {type(payload).__name__}")
    for key in ("power_w", "target_power_w", "max_consumption_w", "max_production_w"):
        _number(payload.get(key), key)
    mode = payload.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise PayloadError(f"field 'mode' should be a string, got {type(mode).__name__}")
    # API 2.3.0's charge_to_full is not in the library's model: read from the payload.
    to_full = payload.get("charge_to_full")
    if to_full is not None and not isinstance(to_full, bool):
        raise PayloadError("field 'charge_to_full' should be true or false")
    group = _model(Batteries, payload)
    count = _number(group.battery_count, "battery_count")
    return BatteryGroup(
        # The library drops a mode it does not know (None); a newer firmware's mode still shows.
        mode=group.mode.value if group.mode is not None else mode,
        permissions=(
            tuple(p.value for p in group.permissions) if group.permissions is not None else None
        ),
        charge_to_full=to_full,
        battery_count=int(count) if count is not None else None,
        power_w=group.power_w,
        target_power_w=group.target_power_w,
        max_consumption_w=group.max_consumption_w,
        max_production_w=group.max_production_w,
    )
