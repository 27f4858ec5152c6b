"""Assemble the exporter from a Config: sources, state store, collector, HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Iterable

from aiohttp import web

from gridwatch.areas import AREAS
from gridwatch.config import Config
from gridwatch.core.area import Area
from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.collector import GridwatchCollector
from gridwatch.core.component import Component, ComponentFactory, Runtime
from gridwatch.core.scheduler import Scheduler
from gridwatch.core.server import make_app, make_registry
from gridwatch.core.startup import listen
from gridwatch.core.state import StateStore
from gridwatch.core.tasks import cancel_and_wait
from gridwatch.core.thresholds import component as alert_thresholds
from gridwatch.live.hub import LiveHub
from gridwatch.live.routes import routes as live_routes
from gridwatch.shutdown import StopSignals

log = logging.getLogger(__name__)


def _area(area: Area) -> ComponentFactory:
    """An area's component, imported only when the config uses the area: a meter-only site
    never loads bleak, aiobmsble or pymodbus (about 10 MB of memory on a Raspberry Pi)."""

    def make(runtime: Runtime) -> Component:
        if not area.wanted(runtime.config):
            return Component()
        factory: ComponentFactory = importlib.import_module(area.component).component
        return factory(runtime)

    return make


def components(areas: Iterable[Area]) -> tuple[ComponentFactory, ...]:
    """Every area's component factory, then the alert thresholds every site exports."""
    return (*(_area(area) for area in areas), alert_thresholds)


COMPONENTS = components(AREAS)


class Exporter:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = system_clock,
        factories: Iterable[ComponentFactory] = COMPONENTS,
    ) -> None:
        self.config = config
        self.store = StateStore(clock)
        self.runtime = Runtime(config, self.store)
        self.components: list[Component] = [make(self.runtime) for make in factories]
        self.sources = [s for c in self.components for s in c.sources]
        self.collector = GridwatchCollector(
            self.store, [b for c in self.components for b in c.builders]
        )
        self.registry = make_registry(self.collector)
        self.live = LiveHub(self.store, self.collector.collect, config.exporter.live_min_interval)
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []
        self.port: int | None = None

    @property
    def url(self) -> str:
        host = self.config.exporter.listen_address
        shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        return f"http://{shown}:{self.port}"

    async def start(self) -> None:
        routes = [r for c in self.components for r in c.routes]
        exporter = self.config.exporter
        routes += live_routes(self.live, exporter.grafana_url, self.config.site.timezone)
        app = make_app(self.store, self.registry, routes)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        exporter = self.config.exporter
        await listen(self._runner, exporter.listen_address, exporter.port, "exporter")
        self.port = int(self._runner.addresses[0][1])  # the real port when configured as 0
        self._task = asyncio.create_task(Scheduler(self.store, self.sources).run())
        self._background = [
            asyncio.create_task(task(), name=f"background:{task.__name__}")
            for component in self.components
            for task in component.tasks
        ]
        log.info("serving metrics on %s/metrics", self.url)

    async def stop(self) -> None:
        for background in self._background:
            background.cancel()
        for background in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await background
        self._background = []
        await cancel_and_wait(self._task)
        self._task = None
        await self.live.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for component in self.components:
            for hook in component.on_stop:
                try:
                    hook()
                except Exception:  # one failing hook must not skip the others' flushes
                    log.exception("shutdown hook failed")
        self.runtime.close()


async def wait_for_signal() -> None:
    """Return on SIGTERM, SIGINT or SIGHUP, for code that starts nothing before it waits."""
    with StopSignals() as stop:
        await stop.wait()


async def run(config: Config) -> None:
    with StopSignals() as stop:  # before anything starts: a signal mid-start-up stops cleanly
        exporter = Exporter(config)
        try:
            await exporter.start()
            await stop.wait()
            log.info("shutting down")
        finally:
            await exporter.stop()
