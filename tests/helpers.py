"""Shared test helpers: fixture locations and exposition parsing."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from prometheus_client.parser import text_string_to_metric_families

PROJECT_FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_FIXTURES = SHARED / "fixtures"


def shared_fixture_files(subdir: str, pattern: str) -> list[Path]:
    """Files from ../shared/fixtures; empty (tests parametrised on it skip) when absent."""
    folder = SHARED_FIXTURES / subdir
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def shared_or_skip(files: list[Path]) -> list[Any]:
    if files:
        return list(files)
    return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/fixtures not present"))]


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_exposition(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, keyed by (name, labels)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def missing_tool(what: str, package: str) -> NoReturn:
    """A tool a test needs is not installed: a failure in CI, where it must be, else a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required in CI (apt-get install {package})")
    # allow_module_level: the end-to-end module checks its binaries before it imports the stack.
    pytest.skip(f"{what} not installed (apt-get install {package})", allow_module_level=True)


def required_binary(name: str, package: str) -> str:
    """The path of ``name`` on PATH (see ``missing_tool`` when there is none)."""
    binary = shutil.which(name)
    if binary is None:
        missing_tool(name, package)
    return binary


@contextlib.asynccontextmanager
async def one_demo_at_a_time() -> AsyncIterator[None]:
    """Hold while a `gridwatch demo` process runs: the demo prefers fixed ports (9090, 9093,
    9864) when they are free, and two demos starting at once on two pytest-xdist workers could
    both find one free and then collide. A file lock, so it holds across the workers."""
    path = Path(tempfile.gettempdir()) / "gridwatch-tests-demo.lock"
    with path.open("a") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
