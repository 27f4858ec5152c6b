"""`python -m bench.counting_exporter run -c CONFIG`: gridwatch's own CLI, with two counters.

Every call into the cost accounting (``CostAccounting.observe``) and the per-phase peak tracking
(``PeakTracker.observe``) is counted on its way in; the real method then runs unchanged. On
SIGUSR1 the counts go to stderr as ``BENCH-COUNTS <n> {json}`` (``n`` counts the signals, so a
reader can wait for the answer to its own). push_capture compares them with the meter's pushes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Mapping
from types import FrameType
from typing import Any

from gridwatch.cli import main
from gridwatch.energy.cost import CostAccounting
from gridwatch.energy.phases import PeakTracker

PREFIX = "BENCH-COUNTS"
counts: Counter[str] = Counter()
_last_ts: dict[str, float] = {}
_signals = 0

_cost_observe = CostAccounting.observe
_peak_observe = PeakTracker.observe


def _counted_cost(  # noqa: PLR0917 (the signature of CostAccounting.observe)
    self: CostAccounting,
    meter: str,
    ts: float,
    import_kwh: float | None,
    export_kwh: float | None,
    unique_id: str | None = None,
) -> None:
    counts["cost_calls"] += 1
    if ts > _last_ts.get(meter, float("-inf")):  # what observe integrates: a newer reading
        counts["cost_new_readings"] += 1
        _last_ts[meter] = ts
    _cost_observe(self, meter, ts, import_kwh, export_kwh, unique_id)


def _counted_peaks(self: PeakTracker, device: str, abs_currents: Mapping[str, float]) -> None:
    counts["peak_calls"] += 1
    _peak_observe(self, device, abs_currents)


def _report(_signum: int, _frame: FrameType | None) -> None:
    global _signals  # noqa: PLW0603 (one process, one counter)
    _signals += 1
    line = f"\n{PREFIX} {_signals} {json.dumps(dict(counts))}\n"
    os.write(sys.stderr.fileno(), line.encode())  # no buffered stream: safe in a handler


def run(argv: list[str] | None = None) -> Any:
    CostAccounting.observe = _counted_cost  # type: ignore[method-assign]
    PeakTracker.observe = _counted_peaks  # type: ignore[method-assign]
    signal.signal(signal.SIGUSR1, _report)
    return main(argv)


if __name__ == "__main__":
    raise SystemExit(run())
