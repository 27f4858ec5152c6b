"""fleet_outage: the end-to-end fleet test with the central store away for three minutes.

`make test` stops VictoriaMetrics for 20 s (many scrape, flush and retry intervals, cheap enough
for the suite); here the same test (tests/integration/test_fleet.py) runs with
``GRIDWATCH_FLEET_OUTAGE_S=180``: two Prometheus sites and one vmagent site must deliver every
sample of the outage once the store is back (0 lost, 0 duplicated). Recorded: what the test
prints, and how long the sites took to catch up.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Result, Target

OUTAGE_S = 180
ROOT = Path(__file__).resolve().parents[1]
_PROM = re.compile(r"'(\w+)': \((\d+), (\d+), (\d+), (\d+)\)")
_AGENT = re.compile(r"\(vmagent\): (\d+) scrapes, (\d+) samples, problems: (.*)")
_QUEUE = re.compile(r"vmagent queue after \d+ s: (\d+) bytes, ([\d.]+) bytes per sample")


async def run(workdir: Path) -> Result:
    result = Result("fleet_outage", datetime.now(UTC).isoformat(timespec="seconds"))
    env = {**os.environ, "GRIDWATCH_FLEET_OUTAGE_S": str(OUTAGE_S)}
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "tests/integration/test_fleet.py",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    elapsed = time.perf_counter() - started
    lost = duplicated = produced = 0
    for site, p, lo, du, _unknown in _PROM.findall(text):
        produced += int(p)
        lost += int(lo)
        duplicated += int(du)
        result.measure(f"{site}_samples", f"{site} (Prometheus): samples in the window", int(p))
    if agent := _AGENT.search(text):
        result.measure("school_scrapes", "school (vmagent): scrapes arrived whole", int(agent[1]))
        result.measure("school_samples", "school (vmagent): samples", int(agent[2]))
    if queue := _QUEUE.search(text):
        result.measure(
            "queue_bytes", "vmagent's disk queue at the end of the outage", int(queue[1]), "B"
        )
        result.measure("queue_bytes_per_sample", "…per sample queued", float(queue[2]), "B")
    result.measure("outage_s", "Central store stopped for", OUTAGE_S, "s")
    result.measure("test_s", "Whole test (start, outage, catch-up, dashboards)", elapsed, "s")
    result.targets += [
        Target("passed", "test passed", float(proc.returncode == 0), ">=", 1.0),
        Target("produced", "samples compared (Prometheus sites)", produced, ">=", 1),
        Target("lost", "samples lost (Prometheus sites)", lost, "<=", 0),
        Target("duplicated", "samples duplicated (Prometheus sites)", duplicated, "<=", 0),
    ]
    if proc.returncode != 0:
        result.notes.append("test output (tail):\n" + "\n".join(text.splitlines()[-30:]))
    result.notes.append(
        f"tests/integration/test_fleet.py with GRIDWATCH_FLEET_OUTAGE_S={OUTAGE_S}: three sites "
        "(two Prometheus with remote_write, one vmagent) into VictoriaMetrics behind vmauth; "
        f"the store is stopped for {OUTAGE_S} s and started again."
    )
    return result
