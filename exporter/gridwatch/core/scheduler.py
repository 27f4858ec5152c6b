"""Runs every source as its own asyncio task and restarts a source that crashes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from gridwatch.core.source import Source, SourceError
from gridwatch.core.state import StateStore

log = logging.getLogger(__name__)


class Scheduler:
    restart_initial = 1.0
    restart_max = 60.0

    def __init__(self, store: StateStore, sources: Sequence[Source]) -> None:
        self._store = store
        self._sources = list(sources)
        for source in self._sources:
            store.register(source.key, source.staleness)

    async def run(self) -> None:
        """Run all sources until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            for source in self._sources:
                tasks.create_task(self._supervise(source), name=f"source:{source.key.device}")

    async def _supervise(self, source: Source) -> None:
        delay = self.restart_initial
        last_bug: str | None = None
        while True:
            try:
                await source.run(self._store)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in a source must not take the others down
                bug = f"{type(exc).__name__}: {exc}"
                if bug != last_bug:  # log a repeating crash once, with its traceback
                    log.exception("source %s/%s crashed", source.key.source, source.key.device)
                    last_bug = bug
                self._store.failure(source.key, SourceError("internal", bug[:200]))
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.restart_max)
