"""outbox_durability: what ``synchronous=FULL`` costs the receiver's outbox, against NORMAL.

The webhook answers 200 only after the job is committed. With WAL and ``synchronous=NORMAL`` a
commit is not synced, so a power cut can lose a job Alertmanager was told is safe; FULL syncs
the WAL at every commit. This measures one ``Outbox.accept`` (the commit behind each 200) and
one delivered part (``JobProgress.add``, a commit per message sent) both ways, alternating in
blocks so a noisy neighbour hits both alike, on the disk that holds the work directory.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from bench.report import Result, Target
from gridwatch.core.statedb import StateDB
from gridwatch.receiver.model import Alert, Notification
from gridwatch.receiver.outbox import Outbox

Mode = Literal["NORMAL", "FULL"]
BLOCKS = 10
PER_BLOCK = 30
# A household's Alertmanager sends a few notifications an hour; even 50 ms per commit would be
# invisible. The limit only catches a disk so slow that Alertmanager's 10 s timeout comes near.
MAX_ACCEPT_MS = 100.0


def _notification(n: int) -> Notification:
    alert = Alert(
        "firing",
        {"alertname": "GridDown", "n": str(n)},
        {"summary": "Grid lost"},
        datetime(2026, 11, 22, 5, 39, tzinfo=UTC),
        None,
        f"{n:016x}",
    )
    return Notification("telegram", "firing", (alert,), group_key=f"g{n}")


def _block(outbox: Outbox, start: int) -> tuple[list[float], list[float]]:
    accepts: list[float] = []
    parts: list[float] = []
    for n in range(start, start + PER_BLOCK):
        began = time.perf_counter()
        job = outbox.accept(_notification(n), 1_795_000_000.0 + n).job_id
        accepts.append((time.perf_counter() - began) * 1000)
        assert job is not None
        began = time.perf_counter()
        outbox.progress(job).add("42:0")
        parts.append((time.perf_counter() - began) * 1000)
    return accepts, parts


async def run(workdir: Path) -> Result:
    result = Result("outbox_durability", datetime.now(UTC).isoformat(timespec="seconds"))
    modes: tuple[Mode, ...] = ("NORMAL", "FULL")
    dbs = {m: StateDB(workdir / f"outbox-{m.lower()}.db", synchronous=m) for m in modes}
    outboxes = {m: Outbox(db) for m, db in dbs.items()}
    accepts: dict[Mode, list[float]] = {m: [] for m in modes}
    parts: dict[Mode, list[float]] = {m: [] for m in modes}
    try:
        for block in range(BLOCKS):
            order = modes if block % 2 == 0 else tuple(reversed(modes))
            for mode in order:
                a, p = _block(outboxes[mode], block * PER_BLOCK)
                accepts[mode] += a
                parts[mode] += p
    finally:
        for db in dbs.values():
            db.close()
    for mode in modes:
        median = statistics.median(accepts[mode])
        p99 = statistics.quantiles(accepts[mode], n=100)[98]
        result.measure(f"accept_{mode.lower()}_median_ms", f"accept, {mode}: median", median, "ms")
        result.measure(f"accept_{mode.lower()}_p99_ms", f"accept, {mode}: p99", p99, "ms")
        result.measure(
            f"part_{mode.lower()}_median_ms",
            f"one delivered part recorded, {mode}: median",
            statistics.median(parts[mode]),
            "ms",
        )
    full = statistics.quantiles(accepts["FULL"], n=100)[98]
    result.measure(
        "accept_full_over_normal",
        "accept: FULL / NORMAL (median)",
        statistics.median(accepts["FULL"]) / statistics.median(accepts["NORMAL"]),
        "×",
    )
    result.targets.append(
        Target("accept_full_p99", "accept with FULL, p99", full, "<=", MAX_ACCEPT_MS, "ms")
    )
    result.notes += [
        f"{BLOCKS} blocks of {PER_BLOCK} accepts (each followed by one recorded part) per mode, "
        "alternating NORMAL and FULL block by block, in the benchmark's work directory.",
        "The receiver uses FULL for its outbox: the extra sync per commit is the price of "
        "never losing a job that was answered 200, in a household that loses power by design.",
    ]
    return result
