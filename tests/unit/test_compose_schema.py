"""The compose files against the Compose Specification's JSON schema, and the stated minimum
Compose version checked by scripts/check-compose.sh.

The schema is the compose-spec project's `schema/compose-spec.json`, kept unchanged, with its
source and licence named, in tests/fixtures/compose/.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from tests.helpers import PROJECT_FIXTURES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = PROJECT_FIXTURES / "compose" / "compose-spec.json"
COMPOSE_FILES = [
    ROOT / "docker-compose.yml",
    ROOT / "deploy" / "docker" / "compose.host-network.yml",
]
CHECK = ROOT / "scripts" / "check-compose.sh"
MINIMUM = "2.24"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_follows_the_compose_specification(
    validator: Draft7Validator, path: Path
) -> None:
    document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]
    assert not problems, "\n".join(problems)


def test_the_schema_catches_what_compose_would_reject(validator: Draft7Validator) -> None:
    """The check has teeth: an unknown key and an env_file of the wrong shape both fail."""
    bad = {"services": {"exporter": {"image": "x", "env_fil": "a"}}}
    assert list(validator.iter_errors(bad))
    bad = {"services": {"exporter": {"image": "x", "env_file": [{"required": False}]}}}
    assert list(validator.iter_errors(bad))


def test_the_minimum_version_is_stated_where_users_look() -> None:
    for path in (ROOT / "README.md", ROOT / "docs" / "docker.md", ROOT / "docker-compose.yml"):
        text = path.read_text(encoding="utf-8")
        assert f"{MINIMUM}" in text and "check-compose.sh" in text, path
    assert f"MINIMUM={MINIMUM}.0" in CHECK.read_text(encoding="utf-8")


def fake_tools(tmp_path: Path, *, plugin: str | None, legacy: str | None) -> dict[str, str]:
    """A PATH with stand-ins for the docker CLI and the old docker-compose (external tools)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = (
        "#!/bin/sh\n"
        + (f'[ "$1 $2" = "compose version" ] && echo "{plugin}" && exit 0\n' if plugin else "")
        + "echo \"docker: '$1' is not a docker command.\" >&2\nexit 1\n"
    )
    (bin_dir / "docker").write_text(docker, encoding="utf-8")
    if legacy:
        (bin_dir / "docker-compose").write_text(f"#!/bin/sh\necho {legacy}\n", encoding="utf-8")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    keep = ("sort", "head", "cat", "sh", "bash", "printf")
    for name in keep:  # the script's own tools, from the real PATH
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            if (Path(folder) / name).is_file() and not (bin_dir / name).exists():
                (bin_dir / name).symlink_to(Path(folder) / name)
    return {"PATH": str(bin_dir), "LC_ALL": "C"}


@pytest.mark.parametrize(
    ("plugin", "legacy", "ok"),
    [
        ("2.24.0", None, True),
        ("v2.39.1", None, True),
        ("2.20.2", None, False),
        (None, "1.29.2", False),  # Debian 12's package
        (None, None, False),
    ],
)
def test_check_compose_says_plainly_whether_this_compose_can_read_the_files(
    tmp_path: Path, plugin: str | None, legacy: str | None, ok: bool
) -> None:
    env = fake_tools(tmp_path, plugin=plugin, legacy=legacy)
    result = subprocess.run(
        ["bash", str(CHECK)], env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode == 0) is ok, result.stderr
    if ok:
        assert "OK" in result.stdout
    else:
        assert f">= {MINIMUM}.0" in result.stderr
        if legacy:
            assert f"Docker Compose {legacy} is too old" in result.stderr
