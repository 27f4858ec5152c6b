"""`gridwatch demo`'s receiver switches the demo's simulated HomeWizard Energy Socket beside the
Tuya plugs: `/plugs` in the demo chat lists it, a GridDown from Alertmanager switches it off and
its resolution back on, read from the socket's own API as a user would.

The demo is assembled as `gridwatch demo` does it (the HomeWizard part, then the demo receiver);
this test plays Alertmanager, so no Prometheus, Alertmanager or two-minute grid drop is needed.
The demo's scheduled loads are left out: they would switch the same socket by price.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import aiohttp
import pytest

from gridwatch.config import Config
from gridwatch.core.clock import Clock
from gridwatch.demo import builtin_config
from gridwatch.sim.homewizard.demo import demo_part
from gridwatch.sim.polling import wait_until
from gridwatch.sim.receiver_demo import start_demo_receiver
from gridwatch.sources.homewizard import DEVICES
from tests.integration.test_cli import fetch
from tests.receiver_fakes import griddown

pytestmark = pytest.mark.integration


def socket_url(config: Config, name: str) -> str:
    device = next(d for d in DEVICES.of(config) if d.name == name)
    return f"http://{device.host}:{device.http_port}/api/v1/state"


async def power_on(url: str) -> bool | None:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        state = await response.json()
    on = state.get("power_on")
    return on if isinstance(on, bool) else None


def banner(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.strip().startswith(name))


async def test_demo_receiver_sheds_and_restores_the_energy_socket(
    tmp_path: Path, clock: Clock
) -> None:
    config = builtin_config()
    async with contextlib.AsyncExitStack() as stack:
        config, _lines = await demo_part(config, stack, clock)
        site = config.site.model_copy(update={"data_dir": tmp_path})
        config = config.model_copy(update={"site": site, "automation": None})
        receiver = await start_demo_receiver(
            config,
            stack,
            workdir=tmp_path,
            exporter_url="http://127.0.0.1:9",  # /plugs and the webhook never ask it
            prometheus_url="http://127.0.0.1:9",
            alertmanager_url="http://127.0.0.1:9",
        )
        assert "heater" in banner(receiver.lines, "sockets")
        heater = socket_url(config, "heater")
        assert await power_on(heater) is True

        # A person asks for /plugs in the demo chat: the socket is listed beside the plugs.
        chat = next(w for w in banner(receiver.lines, "telegram").split() if w.startswith("http"))

        async def listed() -> bool:
            page = await fetch(chat)
            if page is not None and "heater" in page:
                return True
            # Asked again until the bot polls: it drops what was sent before it started.
            async with (
                aiohttp.ClientSession() as session,
                session.post(chat + "say", data={"text": "/plugs"}) as response,
            ):
                assert response.status == 200
            return False

        await wait_until(listed, what="the socket in the /plugs answer", timeout=30, every=1.0)

        # Alertmanager posts GridDown: the socket goes off; its resolution turns it back on.
        token = receiver.token_file.read_text(encoding="utf-8").strip()

        async def post(status: str) -> bool:
            headers = {"Authorization": f"Bearer {token}"}
            async with (
                aiohttp.ClientSession() as session,
                session.post(receiver.url, json=griddown(status), headers=headers) as response,
            ):
                return response.status == 200

        async def off() -> bool:
            return await power_on(heater) is False

        async def on() -> bool:
            return await power_on(heater) is True

        assert await post("firing")
        await wait_until(off, what="the socket switched off", timeout=30)
        assert await post("resolved")
        await wait_until(on, what="the socket back on", timeout=30)
