"""The dashboards type-check against Grafana's own TypeScript types, `@grafana/schema` of the
oldest and the newest Grafana major the docs support (11 and 12): a key or value Grafana does
not know fails here (tests/grafana_types.py says how).

`make test` installs the types (npm ci in tests/grafana-schema). Without node the check is
skipped with a note, except under CI=true, where it must run.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import pytest

from gridwatch.dashboards import models
from gridwatch.dashboards.walk import panels
from tests import grafana_types


@pytest.fixture(scope="module")
def complaints() -> dict[str, str]:
    missing = grafana_types.available()
    if missing is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Grafana type check must run in CI: {missing}")
        pytest.skip(missing)
    boards = models()
    # One broken copy in the same tsc run, to show the check rejects what Grafana does not know.
    boards["broken.json"] = _broken(boards["grid.json"])
    return grafana_types.check(boards)


def _panel(board: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(p for p in panels(board) if p["type"] == kind)


def _broken(board: dict[str, Any]) -> dict[str, Any]:
    board = copy.deepcopy(board)
    board["refreshRate"] = "1m"  # dashboard key
    first, second = [p for p in panels(board) if p["type"] == "stat"][:2]
    first["options"]["colourMode"] = "value"  # panel option
    second["options"]["graphMode"] = "areas"  # option value outside the enum
    first["targets"][0]["legend"] = "{{phase}}"  # Prometheus query key
    first["fieldConfig"]["defaults"]["colour"] = {"mode": "fixed"}  # field config key
    first["repeatDirections"] = "h"  # panel key
    series = _panel(board, "timeseries")
    series["fieldConfig"]["defaults"]["custom"]["lineStyel"] = {"fill": "dash"}  # custom key
    series["fieldConfig"]["overrides"][0]["properties"].append(
        {"id": "custom.fillOpacitty", "value": 0}  # override property
    )
    series["transformations"] = [{"id": "configFromData", "option": {}}]  # transformation key
    return board


EXPECTED_IN_BROKEN = (
    "refreshRate",
    "repeatDirections",
    "colourMode",
    '"areas"',
    "legend",
    "colour",
    "lineStyel",
    "fillOpacitty",
    "option",
)


@pytest.mark.parametrize("major", sorted(grafana_types.VERSIONS))
def test_every_dashboard_type_checks_against_grafana(
    complaints: dict[str, str], major: str
) -> None:
    errors = [line for line in complaints[major].splitlines() if "error TS" in line]
    ours = [line for line in errors if not line.startswith("generated/broken.ts")]
    assert not ours, f"@grafana/schema {major} rejects:\n" + "\n".join(ours)


@pytest.mark.parametrize("major", sorted(grafana_types.VERSIONS))
def test_unknown_keys_and_values_are_rejected(complaints: dict[str, str], major: str) -> None:
    broken = "\n".join(
        line for line in complaints[major].splitlines() if line.startswith("generated/broken.ts")
    )
    missed = [word for word in EXPECTED_IN_BROKEN if not re.search(re.escape(word), broken)]
    assert not missed, f"@grafana/schema {major} accepted {missed}:\n{broken}"
