"""The receiver's /metrics: what docs/receiver.md lists is exactly what the collector exports."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import generate_latest

from gridwatch.core.statedb import StateDB
from gridwatch.receiver.metrics import ReceiverStats, make_registry
from gridwatch.receiver.outbox import Outbox
from gridwatch.receiver.payload import parse_notification
from tests.helpers import names, parse_exposition, value
from tests.receiver_fakes import griddown

DOC = Path(__file__).resolve().parents[2] / "docs" / "receiver.md"


def documented() -> set[str]:
    section = DOC.read_text(encoding="utf-8").split("\n## Metrics\n", 1)[1].split("\n## ")[0]
    return {m for m in re.findall(r"^\| `([a-z_]+)`", section, re.MULTILINE)}


def test_docs_list_exactly_the_exported_families(tmp_path: Path) -> None:
    outbox = Outbox(StateDB(tmp_path / "receiver.db"))
    outbox.accept(parse_notification(griddown()), 1_795_000_000.0)  # so the timestamp exists
    stats = ReceiverStats()
    stats.webhook_requests["200"] += 1
    samples = parse_exposition(generate_latest(make_registry(stats, outbox)).decode())
    exported = {n.removesuffix("_total") for n in names(samples) if not n.startswith("process_")}
    docs = {n.removesuffix("_total") for n in documented() if n != "process_"}
    assert exported == docs
    assert value(samples, "gridwatch_receiver_outbox_jobs", state="pending") == 1
    assert value(samples, "gridwatch_receiver_webhook_requests_total", code="200") == 1
    assert (
        value(samples, "gridwatch_receiver_oldest_pending_job_timestamp_seconds") == 1_795_000_000.0
    )
