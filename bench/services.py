"""Start the processes a benchmark talks to: simulator, exporter (`gridwatch run`), baseline."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import baseline_child, household_child, sim_child
from bench.procs import Child, spawn
from gridwatch.config import parse_config

_READY = re.compile(r"BENCH-READY (\{.*\})")
_SERVING = re.compile(r"serving metrics on (http://127\.0\.0\.1:\d+)/metrics")
START_TIMEOUT = 30.0  # generous: only guards against a child that never comes up


@dataclass(frozen=True)
class Simulator:
    child: Child
    host: str
    http_port: int
    https_port: int
    token: str
    ca_file: str

    @property
    def state_url(self) -> str:
        return f"http://{self.host}:{self.http_port}/sim/state"

    def v1_meter(self, **extra: Any) -> dict[str, Any]:
        return {
            "name": "home",
            "host": self.host,
            "api": "v1",
            "http_port": self.http_port,
            **extra,
        }

    def v2_meter(self, **extra: Any) -> dict[str, Any]:
        return {
            "name": "home",
            "host": self.host,
            "api": "v2",
            "token": self.token,
            "ca_file": self.ca_file,
            "https_port": self.https_port,
            **extra,
        }


@dataclass(frozen=True)
class Exporter:
    child: Child
    url: str
    spawned_at: float  # perf_counter() just before the process was created


@contextlib.asynccontextmanager
async def simulator(
    fixture: Path | None = None, push_interval: float = 1.0
) -> AsyncIterator[Simulator]:
    args = ["-m", sim_child.__name__, "--push-interval", str(push_interval)]
    if fixture is not None:
        args += ["--fixture", str(fixture)]
    async with spawn("simulator", args) as child:
        info = json.loads((await child.wait_for_line(_READY, START_TIMEOUT))[1])
        yield Simulator(child=child, **info)


def write_config(path: Path, meter: dict[str, Any]) -> None:
    data = {
        "site": {"timezone": "Europe/Stockholm"},
        # port 0: the exporter picks a free port and logs it ("serving metrics on …").
        "exporter": {"listen_address": "127.0.0.1", "port": 0, "log_level": "info"},
        "meters": [meter],
    }
    parse_config(data, str(path))  # fail here, readably, rather than in the child
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@contextlib.asynccontextmanager
async def exporter(
    name: str, config: Path, *, env: dict[str, str] | None = None, module: str = "gridwatch"
) -> AsyncIterator[Exporter]:
    """`python -m gridwatch run -c config`, the way a user runs it.

    ``module`` may name a wrapper that runs the same CLI (bench.counting_exporter)."""
    spawned_at = time.perf_counter()
    async with spawn(name, ["-m", module, "run", "-c", str(config)], env) as child:
        url = (await child.wait_for_line(_SERVING, START_TIMEOUT))[1]
        yield Exporter(child=child, url=url, spawned_at=spawned_at)


@contextlib.asynccontextmanager
async def baseline(samples: int, families: int) -> AsyncIterator[str]:
    """Plain prometheus_client with the same sample count; yields its base URL."""
    args = ["-m", baseline_child.__name__, "--samples", str(samples), "--families", str(families)]
    async with spawn("baseline", args) as child:
        port = json.loads((await child.wait_for_line(_READY, START_TIMEOUT))[1])["port"]
        yield f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Household:
    """The full-household simulators (bench/household_child.py) in their own process."""

    child: Child
    sections: dict[str, Any]  # config sections pointing at the simulators
    dbus: str  # the private bus of the fake BlueZ ("" without batteries)
    control: str  # base URL of /fault and /state

    @property
    def env(self) -> dict[str, str]:
        """What the exporter's environment needs to reach the fake BlueZ, never the host's."""
        return {"DBUS_SYSTEM_BUS_ADDRESS": self.dbus} if self.dbus else {}

    def config(self, path: Path, **overrides: Any) -> None:
        """Write a validated exporter config; ``overrides`` merge into the sections, e.g.
        ``inverters={"interval": "2s"}`` (applied to every item of a list section)."""
        data: dict[str, Any] = {
            "site": {"timezone": "Europe/Stockholm", "data_dir": str(path.parent / path.stem)},
            "exporter": {"listen_address": "127.0.0.1", "port": 0, "log_level": "info"},
        }
        for key, section in self.sections.items():
            extra = overrides.get(key, {})
            if isinstance(section, list):
                data[key] = [{**item, **extra} for item in section]
            else:
                data[key] = {**section, **extra}
        parse_config(data, str(path))
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@contextlib.asynccontextmanager
async def household(
    parts: tuple[str, ...] = household_child.PARTS, push_interval: float = 1.0
) -> AsyncIterator[Household]:
    args = ["-m", household_child.__name__, "--parts", ",".join(parts)]
    args += ["--push-interval", str(push_interval)]
    async with spawn("household", args) as child:
        info = json.loads((await child.wait_for_line(_READY, START_TIMEOUT))[1])
        yield Household(child=child, **info)
