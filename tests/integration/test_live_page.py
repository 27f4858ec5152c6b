"""The live page in a real headless Chromium: it renders every section from the exporter's own
values, each number equals the /metrics sample it names, and updates arrive over the event
stream without a reload. The exporter runs for real against a P1 meter (fixed payload), an
SMG-II over Modbus TCP, the price server and the outage operator, all on a test clock."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.prices.simulator import PriceSimulator
from gridwatch.sources.inverter.regmap import load_shipped
from tests.browser import Chromium
from tests.helpers import parse_exposition, value
from tests.integration.conftest import FULL_V1, Running
from tests.integration.outages_harness import Harness, harness, serve

pytestmark = [pytest.mark.integration, pytest.mark.clock]
SHOWN = "[...document.querySelectorAll('[data-metric]')].map(e => [e.dataset.metric, " \
        "JSON.parse(e.dataset.labels), Number(e.dataset.value), e.textContent])"  # fmt: skip


class Site:
    def __init__(self, h: Harness, gw: Running, device: InverterDevice) -> None:
        self.h, self.gw, self.device = h, gw, device


@pytest.fixture
async def site(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Site]:
    async with harness(monkeypatch, tmp_path) as h, PriceSimulator(clock=h.clock) as prices:
        serve(h, "several_windows_5.2_2026-11-20.json")
        h.clock.set("2026-11-20T10:00")
        meter = HomeWizardSimulator(SimulatorOptions(fixture=FULL_V1))
        device = InverterDevice(load_shipped("smg_ii"), clock=h.clock)  # frozen: fixed values
        await meter.start()
        try:
            async with ModbusInverterServer(device, framing="tcp") as modbus:
                gw = await h.start(
                    extra={
                        "prices": {"area": "SE3", "elprisetjustnu_url": prices.elprisetjustnu_url,
                                   "providers": ["elprisetjustnu"]},
                        "meters": [{"name": "home", "host": meter.host, "api": "v1",
                                    "http_port": meter.http_port, "interval": "0.2s",
                                    "fuse_amperes": 20}],
                        "inverters": [{"name": "main", "transport": "tcp", "host": "127.0.0.1",
                                       "port": modbus.port, "interval": "0.2s", "retries": 0,
                                       "battery_capacity_wh": 10000}],
                        "grid": {"consecutive_polls": 2},
                        "tariff": {"vat": 0.25, "energy_tax_per_kwh": 0.45},
                    }
                )  # fmt: skip
                await gw.wait_for(
                    "every section's data",
                    lambda s: (
                        value(s, "gridwatch_grid_up") == 1
                        and value(s, "gridwatch_p1_phase_current_amperes", meter="home", phase="l1")
                        is not None
                        and value(s, "gridwatch_price_total_per_kwh", area="SE3", currency="SEK")
                        is not None
                    ),
                )
                yield Site(h, gw, device)
        finally:
            await meter.close()


@pytest.fixture
async def browser() -> AsyncIterator[Chromium]:
    chromium = Chromium()
    yield chromium
    await chromium.close()


async def shown(browser: Chromium) -> list[tuple[str, dict[str, str], float, str]]:
    return [tuple(x) for x in await browser.evaluate(SHOWN)]  # type: ignore[misc]


async def test_page_shows_the_metrics_values_and_follows_updates(
    site: Site, browser: Chromium, tmp_path: Path
) -> None:
    await browser.open(site.gw.exporter.url + "/live")
    await _wait(browser, "document.getElementById('conn').dataset.state === 'live'")
    values = await shown(browser)
    names = {name for name, *_ in values}
    # Every section has its numbers: phases against the fuse, price now and next quarters,
    # grid, inverter mode and battery, the next planned outage.
    for expected in (
        "gridwatch_grid_up",
        "gridwatch_p1_phase_current_amperes",
        "gridwatch_p1_fuse_amperes",
        "gridwatch_p1_phase_imbalance_amperes",
        "gridwatch_p1_power_watts",
        "gridwatch_price_total_per_kwh",
        "gridwatch_price_slot_total_per_kwh",
        "gridwatch_inverter_operating_mode",
        "gridwatch_inverter_battery_soc_ratio",
        "gridwatch_outage_schedule_next_outage_start_timestamp_seconds",
    ):
        assert expected in names, (expected, sorted(names))
    # Each shown number is the value /metrics has for the same series.
    samples = parse_exposition(await site.gw.text())
    for name, labels, shown_value, text in values:
        assert value(samples, name, **labels) == pytest.approx(shown_value), (name, labels, text)
    slots = [v for v in values if v[0] == "gridwatch_price_slot_total_per_kwh"]
    # 10:00 in Kyiv is 09:00 in Stockholm (the site): the quarter now, then the next one.
    assert [s[1]["slot"] for s in slots][:2] == ["09:00", "09:15"]
    phases = await browser.evaluate(
        "[...document.querySelectorAll('.phase .fill')].map(e => [e.style.width, e.className])"
    )
    assert len(phases) == 3 and all(w.endswith("%") for w, _ in phases)
    mode = next(v for v in values if v[0] == "gridwatch_inverter_operating_mode")
    assert mode[1]["mode"] == "off_grid" and mode[3] == "off grid"
    # The theme toggle: light ⇄ dark, whatever the system prefers.
    background = "getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()"
    before = await browser.evaluate(background)
    await browser.evaluate("document.getElementById('theme').click()")
    assert await browser.evaluate(background) != before
    theme = await browser.evaluate("document.documentElement.dataset.theme")
    assert theme in {"dark", "light"}
    if os.environ.get("GRIDWATCH_LIVE_SCREENSHOT"):  # docs/img/live-*.png are made this way
        folder = Path(os.environ["GRIDWATCH_LIVE_SCREENSHOT"])
        await browser.screenshot(folder / f"live-{theme}.png")
        await browser.evaluate("document.getElementById('theme').click()")
        await browser.screenshot(folder / f"live-{'light' if theme == 'dark' else 'dark'}.png")

    # The grid goes: the page learns it from the stream, without a reload.
    updates = int(await browser.evaluate("document.body.dataset.updates"))
    site.device.grid_override = False
    await _wait(browser, "document.querySelector('#grid-body .down') !== null", timeout=20)
    assert int(await browser.evaluate("document.body.dataset.updates")) > updates
    assert await browser.evaluate("performance.getEntriesByType('navigation').length") == 1
    grid = [v for v in await shown(browser) if v[0] == "gridwatch_grid_up"]
    assert grid[0][2] == 0 and grid[0][3] == "Grid down"
    assert value(parse_exposition(await site.gw.text()), "gridwatch_grid_up") == 0


async def test_page_is_self_contained_and_the_snapshot_matches(site: Site) -> None:
    status, page, headers = await site.gw.get("/live")
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "http://" not in page.split("{", 1)[0] and "https://" not in page  # nothing external
    for asset in ("live.js", "live.css"):
        status, body, _ = await site.gw.get(f"/live/static/{asset}")
        assert status == 200 and "https://" not in body
    status, body, _ = await site.gw.get("/live/snapshot.json")
    snapshot: dict[str, Any] = json.loads(body)
    assert snapshot["now"] == site.h.clock.now
    fuse = snapshot["metrics"]["gridwatch_p1_fuse_amperes"]
    assert fuse == [[{"meter": "home"}, 20.0]]


async def _wait(browser: Chromium, expression: str, timeout: float = 20.0) -> None:
    from gridwatch.sim.polling import wait_until

    async def holds() -> bool:
        # Before the page has loaded, its elements are missing: not yet, rather than an error.
        return bool(await browser.evaluate(f"(() => {{ try {{ return {expression} }} "
                                           "catch (e) { return false } })()"))  # fmt: skip

    await wait_until(holds, what=expression, timeout=timeout)
