"""Scheduled loads: the receiver's side of price schedules and peak shaving.

The exporter plans (`GET /api/v1/automation`: each load's wanted state and why); this loop reads
that plan and, when a load's wanted state changes, commits a job to the outbox exactly like an
alert would — so the worker switches it through the configured switch backend (`PlugActions`:
Tuya today, any other backend behind the same port), with retries, per-plug results, and
recovery after a restart. The job and this loop's record of "last commanded" are one
transaction: a crash keeps both or neither, so a restart neither loses a switch nor repeats one.

Precedence (docs/automation.md): grid-loss shedding > a person's override > peak shaving >
price schedule. The last two are folded together by the exporter; the first two are held here,
because only the receiver knows them: a plug shed for grid loss (remembered in
`receiver_plug_memory`) or overridden by a person is left alone, and its "last commanded" state
is forgotten, so the schedule is asserted again once the grid is back or the override expires.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gridwatch.energy.automation_config import AutomationConfig
from gridwatch.receiver.metrics import ReceiverStats
from gridwatch.receiver.model import Alert, Notification
from gridwatch.receiver.outbox import Outbox
from gridwatch.receiver.plug_memory import PlugMemory

log = logging.getLogger(__name__)

ALERT_NAME = "GridwatchScheduledSwitch"
RECEIVER_NAME = "gridwatch-automation"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS receiver_scheduled (
    load TEXT PRIMARY KEY,
    turn_on INTEGER NOT NULL,
    reason TEXT NOT NULL,
    since REAL NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS receiver_overrides (
    plug TEXT PRIMARY KEY,
    turn_on INTEGER NOT NULL,
    until REAL NOT NULL,
    by TEXT NOT NULL
)""",
)

Fetch = Callable[[], Awaitable[dict[str, Any]]]


class FetchError(Exception):
    """The exporter's plan could not be read (down, refused, not JSON)."""


def scheduled_switches(alert: Alert) -> list[tuple[str, bool]] | None:
    """The switch a scheduled job stands for; None for any other alert (the rules plan those)."""
    if alert.name != ALERT_NAME or "plug" not in alert.labels:
        return None
    return [(alert.labels["plug"], alert.labels.get("state") == "on")]


def is_automation(notification: Notification) -> bool:
    """A job this module committed (not an alert from Alertmanager)."""
    return notification.receiver == RECEIVER_NAME


def is_silent(notification: Notification) -> bool:
    """A scheduled switch with messages off: done once its switch is."""
    return is_automation(notification) and notification.common_annotations.get("notify") == "false"


@dataclass(frozen=True, slots=True)
class Override:
    plug: str
    on: bool
    until: float
    by: str


class Overrides:
    """A person's "on" or "off" for a plug, until a time: the automation does not touch it."""

    def __init__(self, outbox: Outbox) -> None:
        self._db = outbox.db
        self._db.ensure_schema(*_SCHEMA)

    def set(self, plug: str, on: bool, until: float, by: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO receiver_overrides VALUES (?, ?, ?, ?)",
                (plug, int(on), until, by),
            )

    def clear(self, plug: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM receiver_overrides WHERE plug = ?", (plug,))

    def active(self, plug: str, now: float) -> Override | None:
        row = self._db.connection.execute(
            "SELECT turn_on, until, by FROM receiver_overrides WHERE plug = ? AND until > ?",
            (plug, now),
        ).fetchone()
        return None if row is None else Override(plug, bool(row[0]), float(row[1]), str(row[2]))


class ScheduledLoads:
    def __init__(
        self,
        config: AutomationConfig,
        outbox: Outbox,
        fetch: Fetch,
        *,
        clock: Callable[[], float],
        wake: Callable[[], None] = lambda: None,
        notify: bool = False,
        stats: ReceiverStats | None = None,
    ) -> None:
        self._config = config
        self._stats = stats or ReceiverStats()
        self._outbox = outbox
        self._fetch = fetch
        self._clock = clock
        self._wake = wake
        self._notify = notify
        self._memory = PlugMemory(outbox.db)
        self.overrides = Overrides(outbox)
        self._failing = False
        self.commanded = 0  # jobs committed since start (the receiver's metrics)
        self.fetch_errors = 0

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # e.g. the state file cannot be written: try again next time
                log.exception("scheduled loads: this round failed")
            await asyncio.sleep(self._config.poll_interval)

    async def tick(self) -> list[int]:
        """Read the plan once and commit a job for each load whose wanted state changed."""
        try:
            body = await self._fetch()
            wanted = {str(item["load"]): item for item in body["loads"]}
        except (FetchError, KeyError, TypeError, ValueError) as exc:
            self.fetch_errors += 1
            self._stats.plan_read_errors += 1
            if not self._failing:  # once per outage of the exporter, not every poll
                log.warning("scheduled loads: cannot read the exporter's plan: %s", exc)
            self._failing = True
            return []  # keep every plug as it is: no plan is not a reason to switch
        if self._failing:
            log.info("scheduled loads: the exporter's plan is readable again")
        self._failing = False
        now = self._clock()
        jobs: list[int] = []
        for load in self._config.loads:
            item = wanted.get(load.name)
            if item is None:
                continue
            on, reason = bool(item["on"]), str(item["reason"])
            if self._held(load.plug, now):
                self._forget(load.name)
                continue
            if self._last(load.name) == on:
                continue
            job = self._command(load.name, load.plug, on, reason, now)
            if job is not None:
                jobs.append(job)
        if jobs:
            self._wake()
        return jobs

    def override(self, plug: str, on: bool, seconds: float, by: str) -> int | None:
        """A person's "on"/"off" for ``seconds``: switched now, through the outbox, and left
        alone by the automation until it expires (then the schedule is asserted again)."""
        now = self._clock()
        self.overrides.set(plug, on, now + seconds, by)
        for load in self._config.loads:
            if load.plug == plug:
                self._forget(load.name)
        job = self._command(plug, plug, on, f"override by {by}", now, record=False)
        self._wake()
        return job

    def _held(self, plug: str, now: float) -> bool:
        """Grid-loss shedding holds the plug, or a person does."""
        return self._memory.was_on(plug) is not None or self.overrides.active(plug, now) is not None

    def _last(self, load: str) -> bool | None:
        row = self._outbox.db.connection.execute(
            "SELECT turn_on FROM receiver_scheduled WHERE load = ?", (load,)
        ).fetchone()
        return None if row is None else bool(row[0])

    def _forget(self, load: str) -> None:
        if self._last(load) is None:
            return
        with self._outbox.db.transaction() as conn:
            conn.execute("DELETE FROM receiver_scheduled WHERE load = ?", (load,))

    def _command(
        self, load: str, plug: str, on: bool, reason: str, now: float, *, record: bool = True
    ) -> int | None:
        state = "on" if on else "off"
        when = dt.datetime.fromtimestamp(now, dt.UTC)
        alert = Alert(
            status="firing",
            labels={
                "alertname": ALERT_NAME,
                "load": load,
                "plug": plug,
                "state": state,
                "reason": reason,
            },
            annotations={"summary": f"{load}: {state} ({reason})"},
            starts_at=when,
            ends_at=None,
            # Unique per command: the record below, not dedup, is what prevents a repeat.
            fingerprint=hashlib.sha256(f"{load}:{state}:{now!r}".encode()).hexdigest()[:16],
        )
        notification = Notification(
            receiver=RECEIVER_NAME,
            status="firing",
            alerts=(alert,),
            common_labels=dict(alert.labels),
            common_annotations={"notify": "true" if self._notify else "false"},
            group_key=f"automation:{load}",
        )

        def remember(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO receiver_scheduled VALUES (?, ?, ?, ?)",
                (load, int(on), reason, now),
            )

        accepted = self._outbox.accept(notification, now, also=remember if record else None)
        self.commanded += 1
        self._stats.scheduled_switches["override" if not record else reason] += 1
        log.info("scheduled load %s: switching %s %s (%s)", load, plug, state, reason)
        return accepted.job_id


def http_fetch(url: str, timeout: float = 10.0) -> Fetch:
    """Reads `GET {url}/api/v1/automation` with aiohttp."""
    import aiohttp  # noqa: PLC0415 - only the receiver with automation needs a client session

    async def fetch() -> dict[str, Any]:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
                session.get(f"{url.rstrip('/')}/api/v1/automation") as response,
            ):
                if response.status != 200:
                    raise FetchError(f"HTTP {response.status}")
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict):
            raise FetchError("not a JSON object")
        return body

    return fetch
