"""Fuzz the parser: whatever JSON arrives, the only exception is our own PayloadError."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gridwatch.sources.homewizard.parse import V1_TO_V2, PayloadError, parse_measurement

KEYS = sorted(set(V1_TO_V2) | set(V1_TO_V2.values()) | {"external", "timestamp", "meter_model"})
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
numbers = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)
payloads = st.dictionaries(st.sampled_from(KEYS), json_values | numbers, max_size=30)
external = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "unique_id": json_scalars,
            "type": json_scalars,
            "value": json_scalars,
            "unit": json_scalars,
            "timestamp": json_scalars | numbers,
        },
    ),
    max_size=4,
)


def _parse(payload: Any, api: str) -> None:
    try:
        reading = parse_measurement(payload, api=api, received_at=0)
    except PayloadError:
        return
    for phase in reading.phases.values():
        for value in (phase.power_w, phase.voltage_v, phase.current_a):
            assert value is None or math.isfinite(value)


@settings(max_examples=400, deadline=None)
@given(payload=payloads, api=st.sampled_from(["v1", "v2"]))
def test_random_payloads_only_raise_payload_error(payload: dict[str, Any], api: str) -> None:
    _parse(payload, api)


@settings(max_examples=200, deadline=None)
@given(payload=json_values, api=st.sampled_from(["v1", "v2"]))
def test_any_json_document(payload: Any, api: str) -> None:
    _parse(payload, api)


@settings(max_examples=200, deadline=None)
@given(entries=external, stamp=json_scalars | numbers)
def test_external_meters_and_timestamps(entries: list[dict[str, Any]], stamp: Any) -> None:
    _parse({"external": entries, "timestamp": stamp, "montly_power_peak_timestamp": stamp}, "v1")
    _parse({"external": entries, "timestamp": stamp}, "v2")
