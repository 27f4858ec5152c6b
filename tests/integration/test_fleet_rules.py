"""vmalert (the one that evaluates the fleet rules centrally) accepts them: `vmalert -dryRun`
parses every rule and template as it would at start. promtool tests what they do
(prometheus/fleet-tests, run by test_prometheus_rules.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gridwatch.fleet.processes import binary
from tests.integration.fleet_harness import require_victoria_metrics

pytestmark = pytest.mark.integration

FLEET_RULES = sorted(
    (Path(__file__).resolve().parents[2] / "prometheus" / "fleet-rules").glob("*.yml")
)


def _dry_run(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("vmalert"), "-dryRun", f"-rule={path}", "-loggerLevel=ERROR"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("path", FLEET_RULES, ids=[p.name for p in FLEET_RULES])
def test_vmalert_accepts_the_fleet_rules(path: Path) -> None:
    require_victoria_metrics()
    result = _dry_run(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vmalert_refuses_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule that does not parse is refused."""
    require_victoria_metrics()
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups:\n- name: x\n  rules:\n  - alert: A\n    expr: sum(\n", encoding="utf-8"
    )
    assert _dry_run(broken).returncode != 0
