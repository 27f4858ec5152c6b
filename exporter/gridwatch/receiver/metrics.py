"""The receiver's own /metrics: counters kept in memory, one collector building fresh families.

Like the exporter's collector it does no I/O at scrape time; the outbox keeps its job counts
current after every write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gridwatch.core.families.health import build_info
from gridwatch.receiver.outbox import Outbox
from gridwatch.receiver.ports import DEAD_REASONS

# Bounded label values, listed so every series exists from the first scrape (rate() needs a 0).
WEBHOOK_CODES = ("200", "400", "401", "413", "415", "503")
REJECT_REASONS = ("unauthorized", "too_large", "content_type", "invalid_json", "invalid_payload")
DELIVERY_OUTCOMES = ("delivered", "dead_lettered")
PLUG_OUTCOMES = ("ok", "offline", "error")


@dataclass
class ReceiverStats:
    webhook_requests: Counter[str] = field(default_factory=Counter)  # by HTTP code
    rejected: Counter[str] = field(default_factory=Counter)  # by reason
    alerts_accepted: Counter[str] = field(default_factory=Counter)  # by alert status
    duplicates: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)  # by outcome
    dead_letters: Counter[str] = field(default_factory=Counter)  # (job, chat) by DeadReason
    retries: int = 0
    plug_switches: Counter[str] = field(default_factory=Counter)  # by outcome
    outbox_write_errors: int = 0
    scheduled_switches: Counter[str] = field(default_factory=Counter)  # by reason (scheduled.py)
    plan_read_errors: int = 0  # the exporter's plan could not be read


def _counter(
    name: str, doc: str, label: str, values: tuple[str, ...], counts: Counter[str]
) -> Metric:
    family = CounterMetricFamily(name, doc, labels=[label])
    for value in sorted(set(values) | set(counts)):
        family.add_metric([value], counts[value])
    return family


def _total(name: str, doc: str, count: int) -> Metric:
    """A counter with no labels."""
    family = CounterMetricFamily(name, doc)
    family.add_metric([], count)
    return family


class ReceiverCollector(Collector):
    def __init__(self, stats: ReceiverStats, outbox: Outbox) -> None:
        self._stats = stats
        self._outbox = outbox

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        yield from build_info()
        yield _counter(
            "gridwatch_receiver_webhook_requests",
            "Requests to POST /alertmanager, by the HTTP status answered.",
            "code",
            WEBHOOK_CODES,
            s.webhook_requests,
        )
        yield _counter(
            "gridwatch_receiver_webhook_rejected",
            "Webhook requests refused by reason: bad token, too large, not JSON, not a v4 payload.",
            "reason",
            REJECT_REASONS,
            s.rejected,
        )
        yield _counter(
            "gridwatch_receiver_alerts_accepted",
            "New alerts (not seen before) stored in the outbox, by alert status.",
            "status",
            ("firing", "resolved"),
            s.alerts_accepted,
        )
        yield _total(
            "gridwatch_receiver_duplicates_dropped",
            "Alerts dropped because the same fingerprint, status and startsAt was already seen.",
            s.duplicates,
        )
        yield _counter(
            "gridwatch_receiver_deliveries",
            "Notifications finished: delivered, or dead-lettered (not retryable, or too old).",
            "outcome",
            DELIVERY_OUTCOMES,
            s.deliveries,
        )
        yield _counter(
            "gridwatch_receiver_dead_letters",
            "Deliveries to one chat given up, by reason: refused (the peer will never take it), "
            "render (the message cannot be made), expired (older than retry_max_age).",
            "reason",
            DEAD_REASONS,
            s.dead_letters,
        )
        yield _total(
            "gridwatch_receiver_delivery_retries",
            "Failed notification attempts that were scheduled to be tried again.",
            s.retries,
        )
        yield _counter(
            "gridwatch_receiver_plug_switches",
            "Plug switches done by action rules, by result.",
            "outcome",
            PLUG_OUTCOMES,
            s.plug_switches,
        )
        yield _total(
            "gridwatch_receiver_outbox_write_errors",
            "Times the outbox could not be written (the webhook answered 503).",
            s.outbox_write_errors,
        )
        yield _counter(
            "gridwatch_receiver_scheduled_switches",
            "Switches of scheduled loads committed to the outbox, by why (a plan reason, "
            "peak_shaving, or override).",
            "reason",
            ("peak_shaving", "override"),  # always present, so the family is never missing
            s.scheduled_switches,
        )
        yield _total(
            "gridwatch_receiver_plan_read_errors",
            "Times the exporter's plan (GET /api/v1/automation) could not be read; nothing is "
            "switched then.",
            s.plan_read_errors,
        )
        jobs = GaugeMetricFamily(
            "gridwatch_receiver_outbox_jobs",
            "Jobs in the outbox by state: pending (waiting or retrying), done, dead (kept until "
            "pruned).",
            labels=["state"],
        )
        for state, count in sorted(self._outbox.counts.items()):
            jobs.add_metric([state], count)
        yield jobs
        oldest = self._outbox.oldest_pending_created
        if oldest is not None:
            age = GaugeMetricFamily(
                "gridwatch_receiver_oldest_pending_job_timestamp_seconds",
                "Unix time the oldest still pending job was accepted (absent when none is).",
            )
            age.add_metric([], oldest)
            yield age

    def describe(self) -> Iterator[Metric]:
        return iter(())


def make_registry(stats: ReceiverStats, outbox: Outbox) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReceiverCollector(stats, outbox))
    ProcessCollector(registry=registry)
    return registry
