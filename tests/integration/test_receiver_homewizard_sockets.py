"""HomeWizard Energy Sockets as a load-shedding backend next to Tuya, in the real
`gridwatch receiver` process: switched off by a GridDown webhook and back on (staggered) at its
resolution through the outbox, with a SIGKILL between the two sockets of the restore."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from gridwatch.receiver.homewizard.actions import HomeWizardActions
from gridwatch.receiver.homewizard.config import HomeWizardSwitches
from gridwatch.sim.homewizard.device import DeviceOptions, DeviceSimulator
from gridwatch.sim.polling import wait_until
from gridwatch.sim.telegram.bot_api import FakeBotApi
from gridwatch.sim.tuya.local import TuyaLocalSim
from tests.integration.receiver_process import receiver
from tests.integration.test_cli import free_port
from tests.receiver_fakes import TOKEN, griddown

pytestmark = pytest.mark.integration
GUARD = 30.0  # a limit against hangs, never a timing assertion
CHAT = 42


async def until(check: Callable[[], Any], what: str) -> None:
    await wait_until(check, what=what, timeout=GUARD, every=0.02)


async def post(base: str, payload: dict[str, Any]) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.post(base + "/alertmanager", json=payload, headers=headers) as response,
        ):
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


def socket_entry(name: str, sim: DeviceSimulator) -> dict[str, Any]:
    return {"name": name, "host": sim.host, "http_port": sim.http_port, "group": "heavy"}


@pytest.fixture
async def sockets() -> AsyncIterator[dict[str, DeviceSimulator]]:
    sims = {
        name: DeviceSimulator(DeviceOptions(product_type="HWE-SKT", serial=f"5c2faf0000{i:02d}"))
        for i, name in enumerate(("heater", "charger"))
    }
    for sim in sims.values():
        await sim.start()
    yield sims
    for sim in sims.values():
        await sim.close()


async def test_sockets_shed_and_restored_through_the_outbox_despite_a_kill(
    tmp_path: Path, sockets: dict[str, DeviceSimulator]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config, log = tmp_path / "gridwatch.yml", tmp_path / "receiver.log"
    with TuyaLocalSim() as plugs:
        plugs.add("boiler", version="3.4", on=True, groups=["heavy"])
        plugs.start()
        async with FakeBotApi() as api:
            receiver_config = {
                "listen_address": "127.0.0.1",
                "port": port,
                "token": TOKEN,
                "retry_initial": "50ms",
                "retry_max": "200ms",
                "log_level": "warning",
                "telegram": {
                    "bot_token": api.token,
                    "chat_ids": [CHAT],
                    "language": "en",
                    "api_base_url": api.url,
                    "commands": False,
                },
                "tuya": {
                    "plugs": plugs.configs(),
                    "connect_retries": 1,
                    "retry_delay": 0,
                    "stagger": "0.05s",
                },
                # Long enough that the kill lands between the two sockets of the restore.
                "homewizard": {
                    "sockets": [socket_entry(n, s) for n, s in sockets.items()],
                    "stagger": "1s",
                },
                "actions": [{"match": {"alertname": "GridDown"}, "groups": ["heavy"]}],
            }
            site = {"data_dir": str(tmp_path / "data"), "timezone": "Europe/Kyiv"}
            config.write_text(yaml.safe_dump({"site": site, "receiver": receiver_config}))
            heater, charger = sockets["heater"], sockets["charger"]

            async with receiver(config, log) as proc:
                await until(lambda: post(base, griddown("firing")), "GridDown accepted")
                await until(lambda: not heater.power_on and not charger.power_on, "sockets off")
                await until(lambda: not plugs.plugs["boiler"].on, "Tuya plug off")
                await until(lambda: len(api.sent) >= 1, "the grid-down message")
                text = api.sent[0].current
                assert "heater switched off" in text and "charger switched off" in text
                assert "boiler switched off" in text

                assert await post(base, griddown("resolved")) == 200
                await until(lambda: heater.power_on, "the first socket back on")
                assert not charger.power_on  # the stagger keeps the second waiting
                proc.send_signal(signal.SIGKILL)
                await proc.wait()

            assert not charger.power_on
            async with receiver(config, log) as proc:
                await until(lambda: charger.power_on, "the second socket on after the restart")
                await until(lambda: len(api.sent) >= 2, "the grid-back message")
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), GUARD) == 0

            # Each socket went off once and came back on. The restarted receiver may switch the
            # first one on again: the kill can land before it recorded that switch (at least
            # once, and "on" twice is harmless), but never off.
            for switched in (heater.switches, charger.switches):
                assert switched[:2] == [False, True] and all(switched[1:]), switched
            assert plugs.plugs["boiler"].on
            assert "charger switched on" in api.sent[-1].current
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


async def test_plugs_lists_sockets_and_a_dead_one_is_offline(
    sockets: dict[str, DeviceSimulator],
) -> None:
    entries = [socket_entry(n, s) for n, s in sockets.items()]
    entries.append({"name": "gone", "host": "127.0.0.1", "http_port": free_port()})
    actions = HomeWizardActions(HomeWizardSwitches(sockets=entries, timeout=2), [])
    try:
        sockets["charger"].power_on = False
        states = {s.plug: s for s in await actions.states()}
        assert (states["heater"].on, states["heater"].group) == (True, "heavy")
        assert states["charger"].on is False
        assert (states["gone"].on, states["gone"].outcome) == (None, "offline")
        # switch_lock makes the socket refuse to switch off: an error result, not an exception
        sockets["heater"].switch_lock = True
        result = await actions.switch("heater", False)
        assert result.outcome == "error" and "switch_lock" in result.detail
        assert sockets["heater"].power_on
    finally:
        await actions.close()
