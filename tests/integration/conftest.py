"""Fixtures for tests that run the exporter against simulators over loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gridwatch.app import Exporter
from gridwatch.config import Config, parse_config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions
from gridwatch.sim.polling import wait_until
from gridwatch.sources.homewizard.source import HomeWizardSource
from tests.helpers import PROJECT_FIXTURES, Samples, parse_exposition, value

FULL_V1 = PROJECT_FIXTURES / "homewizard" / "v1_3phase_import_export.json"


class Running:
    """An exporter under test, with helpers to scrape it."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    async def get(self, path: str, **headers: str) -> tuple[int, str, dict[str, str]]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.exporter.url + path, headers=headers) as response,
        ):
            return response.status, await response.text(), dict(response.headers)

    async def scrape(self) -> Samples:
        status, text, _ = await self.get("/metrics")
        assert status == 200
        return parse_exposition(text)

    async def text(self) -> str:
        return (await self.get("/metrics"))[1]

    async def wait_for(
        self, what: str, predicate: Callable[[Samples], bool], timeout: float = 20.0
    ) -> Samples:
        """Scrape until ``predicate`` holds for the exposition; returns that scrape."""
        found: list[Samples] = []

        async def holds() -> bool:
            samples = await self.scrape()
            found[:] = [samples]
            return predicate(samples)

        await wait_until(holds, what=what, timeout=timeout)
        return found[0]


def errors(samples: Samples, reason: str, device: str = "home") -> float:
    """gridwatch_source_errors_total of a HomeWizard meter for one reason (0 when absent)."""
    key = {"source": "homewizard", "device": device, "reason": reason}
    return value(samples, "gridwatch_source_errors_total", **key) or 0


StartExporter = Callable[..., Awaitable[Running]]


RunExporter = Callable[..., Awaitable[Running]]  # (config, clock=system_clock)


@contextlib.asynccontextmanager
async def exporters_under_test() -> AsyncIterator[RunExporter]:
    """``await run(config)`` starts an exporter under test; every one started stops on exit."""
    started: list[Exporter] = []

    async def run(config: Config, clock: Clock = system_clock) -> Running:
        exporter = Exporter(config, clock=clock)
        await exporter.start()
        started.append(exporter)
        return Running(exporter)

    try:
        yield run
    finally:
        for exporter in started:
            await exporter.stop()


@pytest.fixture
async def start_exporter() -> AsyncIterator[StartExporter]:
    async with exporters_under_test() as run:

        async def start(*meters: dict[str, Any], timezone: str = "Europe/Stockholm") -> Running:
            config = parse_config(
                {
                    "site": {"timezone": timezone},
                    "exporter": {"listen_address": "127.0.0.1", "port": 0},
                    "meters": list(meters),
                }
            )
            return await run(config)

        yield start


SimFactory = Callable[..., Awaitable[HomeWizardSimulator]]


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    sims: list[HomeWizardSimulator] = []

    async def make(**options: Any) -> HomeWizardSimulator:
        sim = HomeWizardSimulator(SimulatorOptions(**options))
        await sim.start()
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        await sim.close()


@pytest.fixture(autouse=True)
def fast_push_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect quickly in tests; production backs off up to 30 s."""
    monkeypatch.setattr(HomeWizardSource, "push_backoff_initial", 0.2)
    monkeypatch.setattr(HomeWizardSource, "push_backoff_max", 0.5)


def v1_meter(sim: HomeWizardSimulator, **extra: Any) -> dict[str, Any]:
    return {"name": "home", "host": sim.host, "api": "v1", "http_port": sim.http_port, **extra}


def v2_meter(sim: HomeWizardSimulator, **extra: Any) -> dict[str, Any]:
    return {
        "name": "home",
        "host": sim.host,
        "api": "v2",
        "token": sim.token,
        "ca_file": str(sim.ca_file),
        "https_port": sim.https_port,
        **extra,
    }


def fixture_path(name: str) -> Path:
    return PROJECT_FIXTURES / "homewizard" / name


def only_inverters(config: Config, data_dir: Path) -> Config:
    """A demo part's config cut to its inverters, with its own data dir and a free port: the
    other areas' demo parts are tested on their own."""
    return config.model_copy(
        update={
            "site": config.site.model_copy(update={"data_dir": data_dir}),
            "exporter": config.exporter.model_copy(update={"port": 0}),
            "meters": [],
            "prices": None,
            "tariff": None,
            "outages": None,
            "batteries": None,
        }
    )
