"""Several switch backends (Tuya, HomeWizard sockets) behind the one ``PlugActions`` port.

The worker sees one list of switches: the plan is each backend's in turn, a switch goes to the
backend that owns the name, and ``/plugs`` lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gridwatch.receiver.model import Alert, PlugResult, PlugState
from gridwatch.receiver.ports import PlugActions


class Backend(PlugActions, Protocol):
    @property
    def plug_names(self) -> frozenset[str]: ...


class CombinedActions:
    """Implements ``PlugActions`` over several backends with disjoint switch names."""

    def __init__(self, backends: Sequence[Backend]) -> None:
        self._backends = list(backends)

    @property
    def stagger_seconds(self) -> float:
        return max(b.stagger_seconds for b in self._backends)

    def plan(self, alert: Alert) -> list[tuple[str, bool]]:
        planned: dict[str, bool] = {}
        for backend in self._backends:
            for name, on in backend.plan(alert):
                planned.setdefault(name, on)
        return list(planned.items())

    async def switch(self, plug: str, on: bool) -> PlugResult:
        for backend in self._backends:
            if plug in backend.plug_names:
                return await backend.switch(plug, on)
        # Work in the outbox can outlive a config change that removed the switch.
        return PlugResult(plug, on, "error", "no such plug in the configuration")

    async def states(self) -> list[PlugState]:
        return [state for backend in self._backends for state in await backend.states()]
