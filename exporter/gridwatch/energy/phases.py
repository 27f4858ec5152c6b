"""Per-phase derived values: imbalance, load against the main fuse, peaks between scrapes."""

from __future__ import annotations

from collections.abc import Mapping


def imbalance(abs_currents: Mapping[str, float]) -> float | None:
    """max − min of |I| over the phases present; None with fewer than two phases."""
    if len(abs_currents) < 2:
        return None
    return max(abs_currents.values()) - min(abs_currents.values())


def load_ratios(abs_currents: Mapping[str, float], fuse_amperes: float) -> dict[str, float]:
    """|I| / fuse per phase: 1.0 means the phase carries exactly its fuse rating."""
    return {phase: current / fuse_amperes for phase, current in abs_currents.items()}


class PeakTracker:
    """Highest |I| per phase and device seen since the previous scrape.

    A meter updating every second, scraped every 15 s, would otherwise show only one sample in
    fifteen: a kettle-plus-oven spike that trips a fuse could fall between scrapes.
    """

    def __init__(self) -> None:
        self._window: dict[str, dict[str, float]] = {}
        self._last: dict[str, dict[str, float]] = {}

    def observe(self, device: str, abs_currents: Mapping[str, float]) -> None:
        window = self._window.setdefault(device, {})
        for phase, current in abs_currents.items():
            if current > window.get(phase, -1.0):
                window[phase] = current
        self._last[device] = dict(abs_currents)

    def take(self, device: str) -> dict[str, float]:
        """Peaks since the last take; the window restarts at the latest value."""
        window = self._window.pop(device, None)
        last = self._last.get(device, {})
        if window is None:
            return dict(last)
        self._window[device] = dict(last)
        return window

    def forget(self, device: str) -> None:
        self._window.pop(device, None)
        self._last.pop(device, None)
