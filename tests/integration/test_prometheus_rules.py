"""Every recording/alerting rule file passes `promtool check rules`, every rules test file passes
`promtool test rules`. Generic: new files under prometheus/ are picked up without editing this.

Without promtool the tests skip, except under CI=true where a missing promtool is a failure.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import required_binary

pytestmark = pytest.mark.integration

PROMETHEUS = Path(__file__).resolve().parents[2] / "prometheus"
# The sites' rules and the fleet's (vmalert reads the same format, docs/fleet.md).
RULE_FILES = sorted(
    [*(PROMETHEUS / "rules").glob("*.yml"), *(PROMETHEUS / "fleet-rules").glob("*.yml")]
)
TEST_FILES = sorted(
    [*(PROMETHEUS / "tests").glob("*_test.yml"), *(PROMETHEUS / "fleet-tests").glob("*_test.yml")]
)


def _promtool() -> str:
    return required_binary("promtool", "prometheus")


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


def _ids(files: list[Path]) -> list[str]:
    return [f.name for f in files]


def test_there_are_rules_and_tests() -> None:
    assert RULE_FILES, "prometheus/rules/*.yml is empty"
    assert TEST_FILES, "prometheus/tests/*_test.yml is empty"


@pytest.mark.parametrize("path", RULE_FILES, ids=_ids(RULE_FILES))
def test_rules_file_is_valid(path: Path) -> None:
    result = _run("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=_ids(TEST_FILES))
def test_rules_unit_tests_pass(path: Path) -> None:
    # Run from the test file's folder, so its relative rule_files resolve the same everywhere.
    result = _run("test", "rules", path.name, cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr
