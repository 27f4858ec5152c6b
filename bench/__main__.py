"""`python -m bench [NAME…]`: run the benchmarks, write results/<name>.json and RESULTS.md.

Missed targets are recorded, not raised: the exit status is non-zero only if a benchmark could
not run at all.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import (
    alert_latency,
    ascii_reads,
    automation_bill,
    fleet_ingest,
    fleet_outage,
    idle_cost,
    inverter_reads,
    outbox_durability,
    push_capture,
    scrape,
    scrape_household,
    steady_state,
)
from bench.machine import MachineInfo, machine_info
from bench.report import Result, fmt, load_runs, markdown, write_json
from gridwatch import children

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BENCHMARKS: dict[str, Callable[[Path], Coroutine[Any, Any, Result]]] = {
    "scrape": scrape.run,
    "scrape_household": scrape_household.run,
    "push_capture": push_capture.run,
    "idle_cost": idle_cost.run,
    "steady_state": steady_state.run,
    "inverter_reads": inverter_reads.run,
    "ascii_reads": ascii_reads.run,
    "outbox_durability": outbox_durability.run,
    "alert_latency": alert_latency.run,
    "automation_bill": automation_bill.run,
    "fleet_ingest": fleet_ingest.run,
    "fleet_outage": fleet_outage.run,
}

# Shown in RESULTS.md too, but not run by `make bench`: `make soak` (bench/soak.py) takes an hour.
SEPARATE = ("soak",)


def write_markdown(machine: MachineInfo) -> Path:
    """RESULTS.md from the stored JSON, so a partial run still shows the latest of everything."""
    path = HERE / "RESULTS.md"
    runs = load_runs(RESULTS, [*BENCHMARKS, *SEPARATE])
    path.write_text(markdown(runs, machine), encoding="utf-8")
    return path


def _run_one(name: str, workdir: Path) -> Result:
    started = time.perf_counter()
    result = asyncio.run(BENCHMARKS[name](workdir))
    result.duration_s = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)}; default: all")
    names = parser.parse_args(argv).names or list(BENCHMARKS)
    if unknown := [n for n in names if n not in BENCHMARKS]:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    machine = machine_info()
    broken = []
    with tempfile.TemporaryDirectory(prefix=children.temp_prefix("bench")) as tmp:
        for name in names:
            print(f"[bench] {name} …", flush=True)
            try:
                result = _run_one(name, Path(tmp))
            except Exception:
                traceback.print_exc()
                broken.append(name)
                continue
            write_json(result, machine, RESULTS)
            for t in result.targets:
                verdict = "pass" if t.passed else "FAIL"
                print(f"[bench]   {t.label}: {fmt(t.value, t.unit)} ({verdict})", flush=True)
    print(f"[bench] wrote {RESULTS}/*.json and {write_markdown(machine)}", flush=True)
    if broken:
        print(f"[bench] could not run: {', '.join(broken)}", flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
