"""The whole alert path on loopback: a simulated inverter, the exporter, the real Prometheus and
Alertmanager, the receiver with tuyamock plugs and a fake Telegram Bot API.

Used by the end-to-end tests, the alert-latency benchmark and (through ``receiver_demo``) the
demo. Prometheus and Alertmanager run from the project's own files (rules, routes, inhibitions);
only addresses and, when asked, timings are rewritten. Grid loss is ``stack.grid(False)``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from gridwatch.app import Exporter
from gridwatch.binaries import (
    Binary,
    alertmanager_config,
    free_port,
    prometheus_config,
    start_alertmanager,
    start_prometheus,
)
from gridwatch.config import parse_config
from gridwatch.receiver.app import Receiver, start_receiver
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.receiver_demo import write_token_file
from gridwatch.sim.telegram.bot_api import FakeBotApi
from gridwatch.sim.tuya.local import TuyaLocalSim
from gridwatch.sources.inverter.regmap import load_shipped

CHAT_ID = 424242


@dataclass(frozen=True)
class Timings:
    """How fast each stage reacts. ``None`` keeps the value shipped in the project's files."""

    inverter_interval: str = "0.5s"
    consecutive_polls: int = 2
    scrape_interval: str | None = "1s"
    evaluation_interval: str | None = "1s"
    # Alertmanager route timings; None = the shipped alertmanager.yml as it is.
    alertmanager: dict[str, str] | None = field(
        default_factory=lambda: {"group_interval": "1s", "repeat_interval": "1h"}
    )
    stagger: str = "0.3s"


SHIPPED = Timings(
    inverter_interval="2s",
    consecutive_polls=3,
    scrape_interval=None,
    evaluation_interval=None,
    alertmanager=None,
    stagger="3s",
)
"""The timings a user gets from the shipped files and the documented inverter settings."""


@dataclass(frozen=True)
class PlugSpec:
    name: str
    version: str
    groups: tuple[str, ...] = ("heavy",)


DEFAULT_PLUGS = (
    PlugSpec("boiler", "3.3"),
    PlugSpec("heater", "3.4"),
    PlugSpec("washer", "3.5"),
)


class AlertStack:
    """Start with ``async with AlertStack(workdir) as stack``; everything stops on exit."""

    def __init__(
        self,
        workdir: Path,
        *,
        timings: Timings | None = None,
        plugs: tuple[PlugSpec, ...] = DEFAULT_PLUGS,
        language: str = "uk",
        commands: bool = False,
    ) -> None:
        self.workdir = workdir
        self.timings = timings or Timings()
        self.plug_specs = plugs
        self.language = language
        self.commands = commands
        self.device = InverterDevice(load_shipped("smg_ii"))
        self.device.grid_override = True
        self.inverter = ModbusInverterServer(self.device)
        self.bot_api = FakeBotApi()
        self.tuya = TuyaLocalSim()
        self.exporter: Exporter | None = None
        self.prometheus: Binary | None = None
        self.alertmanager: Binary | None = None
        self.receiver: Receiver | None = None
        self._stack = contextlib.AsyncExitStack()

    # -- control -------------------------------------------------------------------------------

    def grid(self, up: bool) -> None:
        """The simulated inverter sees mains (or not) from its next read on."""
        self.device.grid_override = up

    def plug_states(self) -> dict[str, bool | None]:
        return {name: plug.on for name, plug in self.tuya.plugs.items()}

    def messages(self) -> list[str]:
        return self.bot_api.texts(CHAT_ID)

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> AlertStack:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        t = self.timings
        self.workdir.mkdir(parents=True, exist_ok=True)
        await self.inverter.start()
        self._stack.push_async_callback(self.inverter.stop)

        self.exporter = Exporter(parse_config(self._exporter_config()))
        await self.exporter.start()
        self._stack.push_async_callback(self.exporter.stop)

        await self.bot_api.start()
        self._stack.push_async_callback(self.bot_api.close)
        for spec in self.plug_specs:
            self.tuya.add(spec.name, version=spec.version, on=True, groups=list(spec.groups))
        self.tuya.start()
        self._stack.callback(self.tuya.stop)

        token_file = write_token_file(self.workdir)
        # Prometheus and Alertmanager ports are chosen first, so the receiver's bot can be told.
        prom_workdir, am_workdir = self.workdir / "prometheus", self.workdir / "alertmanager"
        prom_port, am_port = free_port(), free_port()
        receiver_config = parse_config(
            self._receiver_config(token_file, prom_port=prom_port, am_port=am_port),
            "<alert stack>",
        )
        self.receiver = await start_receiver(receiver_config, self._stack)

        am = alertmanager_config(
            receiver_url=f"{self.receiver.url}/alertmanager",
            credentials_file=token_file,
            timings=t.alertmanager,
        )
        self.alertmanager = start_alertmanager(am, am_workdir, am_port)
        self._stack.callback(self.alertmanager.stop)
        await self.alertmanager.wait_ready()

        prom = prometheus_config(
            exporter_targets=[f"127.0.0.1:{self.exporter.port}"],
            alertmanager_targets=[f"127.0.0.1:{self.alertmanager.port}"],
            scrape_interval=t.scrape_interval,
            evaluation_interval=t.evaluation_interval,
        )
        self.prometheus = start_prometheus(prom, prom_workdir, prom_port)
        self._stack.callback(self.prometheus.stop)
        await self.prometheus.wait_ready()

    def _exporter_config(self) -> dict[str, Any]:
        t = self.timings
        return {
            "site": {"name": "e2e", "timezone": "Europe/Kyiv", "data_dir": str(self.workdir)},
            "exporter": {"listen_address": "127.0.0.1", "port": 0},
            "inverters": [
                {
                    "name": "smg",
                    "transport": "tcp",
                    "host": "127.0.0.1",
                    "port": self.inverter.port,
                    "model": "smg_ii",
                    "interval": t.inverter_interval,
                    "timeout": "1s",
                }
            ],
            "grid": {"consecutive_polls": t.consecutive_polls, "persist": False},
        }

    def _receiver_config(self, token_file: Path, *, prom_port: int, am_port: int) -> dict[str, Any]:
        assert self.exporter is not None
        return {
            "site": {"name": "e2e", "timezone": "Europe/Kyiv", "data_dir": str(self.workdir)},
            "receiver": {
                "listen_address": "127.0.0.1",
                "port": 0,
                "token_file": str(token_file),
                "retry_initial": "0.2s",
                "retry_max": "1s",
                "prometheus_url": f"http://127.0.0.1:{prom_port}",
                "alertmanager_url": f"http://127.0.0.1:{am_port}",
                "exporter_url": self.exporter.url,
                "telegram": {
                    "bot_token": self.bot_api.token,
                    "chat_ids": [CHAT_ID],
                    "language": self.language,
                    "api_base_url": self.bot_api.url,
                    "commands": self.commands,
                },
                "tuya": {"plugs": self.tuya.configs(), "stagger": self.timings.stagger},
                "actions": [{"match": {"alertname": "GridDown"}, "groups": ["heavy"]}],
            },
        }
