"""How an area (P1 meters, prices, inverter, batteries, outages) plugs into the exporter.

Each area has a ``component(runtime)`` factory returning what it contributes: sources to run,
metric family builders for the collector, JSON API routes, shutdown hooks and background tasks.
The exporter only composes them, so adding an area never means editing another one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gridwatch.config import Config
from gridwatch.core.collector import FamilyBuilder
from gridwatch.core.source import Source
from gridwatch.core.state import StateStore
from gridwatch.core.statedb import StateDB

STATE_FILE = "gridwatch.db"


@dataclass
class Component:
    sources: list[Source] = field(default_factory=list)
    builders: list[FamilyBuilder] = field(default_factory=list)
    routes: list[web.RouteDef] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)  # e.g. flush accumulators
    # Background loops that are not sources (no health of their own), run until cancelled:
    # work the collector must not do at scrape time.
    tasks: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)


class Runtime:
    """What a component factory gets: the config and the shared process state."""

    def __init__(self, config: Config, store: StateStore) -> None:
        self.config = config
        self.store = store
        self.tz = ZoneInfo(config.site.timezone)

    @functools.cached_property
    def db(self) -> StateDB:
        """The state file, opened on first use so configs that need none create none."""
        return StateDB(self.config.site.data_dir / STATE_FILE)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()


ComponentFactory = Callable[[Runtime], Component]
