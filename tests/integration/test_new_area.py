"""A new area needs only its own package and one entry in the area list.

``tests/areas/thermometer`` is a complete made-up area (config section, reading, source, metric
families, component, simulator, demo part) that nothing in ``gridwatch/`` names. Adding it to a
copy of ``AREAS`` — the one line a real area adds to ``gridwatch/areas.py`` — gives it a config
section, a running source, its series in /metrics and its part of the demo.
"""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path

import pytest
from aiohttp import web

from gridwatch.app import Exporter, components
from gridwatch.areas import AREAS
from gridwatch.config import ConfigError, config_model, parse_config
from gridwatch.sim.polling import wait_until
from gridwatch.sim.service import RouteServer
from tests.areas import thermometer
from tests.integration.conftest import Running

pytestmark = pytest.mark.integration

WITH_THERMOMETER = (*AREAS, thermometer.AREA)  # the one line
SERIES = "gridwatch_thermometer_temperature_celsius"


def thermometer_config(tmp_path: Path, url: str = "http://127.0.0.1:9") -> dict[str, object]:
    return {
        "site": {"data_dir": str(tmp_path)},
        "exporter": {"listen_address": "127.0.0.1", "port": 0},
        "thermometers": [{"name": "attic", "url": url, "interval": "0.2s"}],
    }


def test_without_its_line_the_section_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="thermometers: unknown key"):
        parse_config(thermometer_config(tmp_path))


async def test_with_its_line_it_runs_and_is_scraped(tmp_path: Path) -> None:
    model = config_model(WITH_THERMOMETER)
    config = model.model_validate(thermometer_config(tmp_path), context={"base_dir": None})
    assert thermometer.THERMOMETERS.of(config)[0].name == "attic"
    assert not any(area.wanted(config) for area in AREAS)  # only the new area is used

    demo = importlib.import_module(thermometer.AREA.demo_part or "").demo_part
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await demo(config, stack)
        assert lines and "thermometer 'attic'" in lines[0]
        exporter = Exporter(config, factories=components(WITH_THERMOMETER))
        await exporter.start()
        stack.push_async_callback(exporter.stop)
        gw = Running(exporter)
        samples = await gw.wait_for(
            SERIES, lambda s: (SERIES, frozenset({("thermometer", "attic")})) in s
        )
        assert samples[SERIES, frozenset({("thermometer", "attic")})] == 20.0
        up = ("gridwatch_source_up", frozenset({("source", "thermometer"), ("device", "attic")}))
        assert samples[up] == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [({"kelvin": 300}, "payload"), ({"celsius": 85.0}, "sensor_fault")],
    ids=["core-reason", "the-area's-own-reason"],
)
async def test_its_failures_are_ordinary_source_errors(
    tmp_path: Path, body: dict[str, float], reason: str
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.json_response(body)

    async with RouteServer([web.get("/temperature", broken)]) as peer:
        model = config_model(WITH_THERMOMETER)
        config = model.model_validate(thermometer_config(tmp_path, peer.url))
        exporter = Exporter(config, factories=components(WITH_THERMOMETER))
        await exporter.start()
        try:
            gw = Running(exporter)
            errors = (
                "gridwatch_source_errors_total",
                frozenset({("source", "thermometer"), ("device", "attic"), ("reason", reason)}),
            )

            async def failed() -> bool:
                return bool((await gw.scrape()).get(errors))

            await wait_until(failed, what=f"a {reason} error")
            assert SERIES not in await gw.text()
        finally:
            await exporter.stop()
