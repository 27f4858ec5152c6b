"""The battery part of `gridwatch demo`: fake BlueZ with JK packs, or one line when impossible."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from gridwatch.app import Exporter
from gridwatch.demo import builtin_config
from gridwatch.sim.bluez import demo as bms_demo
from tests.fixtures.jkbms.harness import battery, up
from tests.fixtures.jkbms.profiles import require_dbus_daemon
from tests.integration.conftest import Running

pytestmark = pytest.mark.integration


async def test_demo_serves_two_simulated_jk_packs(tmp_path: Path) -> None:
    require_dbus_daemon()
    before = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await bms_demo.demo_part(builtin_config(), stack)
        assert len(lines) == 2 and "house" in lines[0] and "garage" in lines[1]
        assert os.environ["DBUS_SYSTEM_BUS_ADDRESS"] != before  # the exporter reaches the fake
        config = config.model_copy(
            update={
                "meters": [],
                "prices": None,
                "tariff": None,
                "inverters": [],
                "outages": None,
                "exporter": config.exporter.model_copy(update={"port": 0}),
                "site": config.site.model_copy(update={"data_dir": tmp_path}),
            }
        )
        exporter = Exporter(config)
        await exporter.start()
        stack.push_async_callback(exporter.stop)
        s = await Running(exporter).wait_for(
            "both demo packs", lambda s: up(s, "house") == 1 and up(s, "garage") == 1
        )
        assert battery(s, "voltage_volts", "house") == pytest.approx(52.971)  # JK02_24S 10.08
        assert battery(s, "voltage_volts", "garage") == pytest.approx(26.481)  # JK02_32S 19.27
    assert os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") == before  # restored on stop


async def test_demo_without_dbus_daemon_says_so_and_drops_batteries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dbus-daemon anywhere on the PATH
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await bms_demo.demo_part(builtin_config(), stack)
    assert config.batteries is None
    assert len(lines) == 1 and "skipped" in lines[0] and "dbus" in lines[0]
