"""The receiver's outbox: accepted notifications as jobs in SQLite, worked off by the worker.

A job is one notification (only the alerts not seen before). Its work is recorded step by step —
each plug switch is a row marked done with its result, the message is sent or not — so a restart
resumes where it stopped: nothing accepted is lost and finished steps are not repeated.

Dedup keys (receiver + groupKey + fingerprint + status + startsAt) are kept for
``dedup_retention`` after they were last seen; every duplicate refreshes its key, so an alert
that Alertmanager re-sends every ``repeat_interval`` stays known while it fires.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator, MutableSet
from dataclasses import dataclass
from typing import Literal

from gridwatch.core.statedb import StateDB
from gridwatch.receiver.lanes import SCHEMA as LANES_SCHEMA
from gridwatch.receiver.model import Alert, Notification, PlugResult
from gridwatch.receiver.payload import encode_notification, parse_notification

JobState = Literal["pending", "done", "dead"]
_STATES: tuple[JobState, ...] = ("pending", "done", "dead")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS receiver_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created REAL NOT NULL,
        notification TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        planned INTEGER NOT NULL DEFAULT 0,
        actions_done INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        finished REAL
    )""",
    "CREATE INDEX IF NOT EXISTS receiver_jobs_state ON receiver_jobs (state, id)",
    """CREATE TABLE IF NOT EXISTS receiver_steps (
        job_id INTEGER NOT NULL REFERENCES receiver_jobs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        plug TEXT NOT NULL,
        turn_on INTEGER NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        PRIMARY KEY (job_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS receiver_dedup (
        key TEXT PRIMARY KEY,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS receiver_dedup_seen ON receiver_dedup (last_seen)",
    # What a notifier already delivered of a job (e.g. "chat 42, part 0"), so a retry after a
    # restart does not send it to the same chat again.
    """CREATE TABLE IF NOT EXISTS receiver_parts (
        job_id INTEGER NOT NULL REFERENCES receiver_jobs (id) ON DELETE CASCADE,
        part TEXT NOT NULL,
        PRIMARY KEY (job_id, part)
    )""",
    LANES_SCHEMA,
)


@dataclass(frozen=True, slots=True)
class Accepted:
    """What the webhook did with a notification: a job for the new alerts, or nothing."""

    job_id: int | None
    alerts: tuple[Alert, ...]  # the new ones, now in the job
    duplicates: int

    @property
    def new_alerts(self) -> int:
        return len(self.alerts)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    created: float
    notification: Notification
    planned: bool
    actions_done: bool
    attempts: int
    next_attempt_at: float
    last_error: str


@dataclass(frozen=True, slots=True)
class Step:
    job_id: int
    seq: int
    plug: str
    on: bool
    done: bool
    result: PlugResult | None


class JobProgress(MutableSet[str]):
    """A set of delivered parts that lives in the state file: ``add`` commits at once."""

    def __init__(self, db: StateDB, job_id: int) -> None:
        self._db = db
        self._job_id = job_id

    def _parts(self) -> set[str]:
        rows = self._db.connection.execute(
            "SELECT part FROM receiver_parts WHERE job_id = ?", (self._job_id,)
        )
        return {row[0] for row in rows}

    def __contains__(self, part: object) -> bool:
        row = self._db.connection.execute(
            "SELECT 1 FROM receiver_parts WHERE job_id = ? AND part = ?", (self._job_id, part)
        ).fetchone()
        return row is not None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._parts()))

    def __len__(self) -> int:
        return len(self._parts())

    def add(self, value: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO receiver_parts (job_id, part) VALUES (?, ?)",
                (self._job_id, value),
            )

    def discard(self, value: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM receiver_parts WHERE job_id = ? AND part = ?", (self._job_id, value)
            )


def dedup_key(notification: Notification, alert: Alert) -> str:
    # groupKey and receiver too: one alert routed to two receivers is two deliveries, not one.
    return f"{notification.receiver}\x1f{notification.group_key}\x1f{alert.dedup_key}"


def _add_column(db: StateDB, table: str, column: str) -> None:
    """A column added in a later release, for state files made before it."""
    try:
        with db.transaction() as conn:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc):
            raise


def _resolved_seen(conn: sqlite3.Connection, notification: Notification, alert: Alert) -> bool:
    resolved = dedup_key(notification, dataclasses.replace(alert, status="resolved"))
    row = conn.execute("SELECT 1 FROM receiver_dedup WHERE key = ?", (resolved,)).fetchone()
    return row is not None


def _status_of(alerts: tuple[Alert, ...]) -> Literal["firing", "resolved"]:
    # As Alertmanager computes it: a group is firing while any of its alerts fires.
    return "firing" if any(a.status == "firing" for a in alerts) else "resolved"


def _result_json(result: PlugResult) -> str:
    return json.dumps(
        {
            "plug": result.plug,
            "on": result.on,
            "outcome": result.outcome,
            "detail": result.detail,
            "was_on": result.was_on,
            "kept_off": result.kept_off,
        }
    )


def _result(text: str | None) -> PlugResult | None:
    if text is None:
        return None
    raw = json.loads(text)
    return PlugResult(
        raw["plug"],
        bool(raw["on"]),
        raw["outcome"],
        raw.get("detail", ""),
        raw.get("was_on"),
        bool(raw.get("kept_off", False)),
    )


class Outbox:
    """Jobs, steps and dedup keys in the receiver's state file. Event loop thread only."""

    def __init__(self, db: StateDB) -> None:
        self._db = db
        db.ensure_schema(*_SCHEMA)
        _add_column(db, "receiver_steps", "tries INTEGER NOT NULL DEFAULT 0")
        self._counts: dict[JobState, int] = {}
        self._oldest_pending: float | None = None
        self._refresh_counts()

    @property
    def db(self) -> StateDB:
        return self._db

    # -- the webhook's side ------------------------------------------------------------------

    def accept(
        self,
        notification: Notification,
        now: float,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> Accepted:
        """Drop alerts already seen, store a job for the rest; one transaction (with ``also``,
        the caller's own record of it: a crash keeps both or neither).

        Raises sqlite3.Error when the file cannot be written: the webhook then answers 5xx and
        Alertmanager retries, so nothing is acknowledged that is not on disk."""
        with self._db.transaction() as conn:
            if also is not None:
                also(conn)
            fresh: list[Alert] = []
            for alert in notification.alerts:
                key = dedup_key(notification, alert)
                seen = conn.execute(
                    "UPDATE receiver_dedup SET last_seen = ? WHERE key = ?", (now, key)
                ).rowcount
                if seen:
                    continue
                conn.execute(
                    "INSERT INTO receiver_dedup (key, first_seen, last_seen) VALUES (?, ?, ?)",
                    (key, now, now),
                )
                if alert.status == "firing" and _resolved_seen(conn, notification, alert):
                    # A late firing of an instance already resolved (same fingerprint and
                    # startsAt) must not undo the resolution: shed plugs would stay off.
                    continue
                fresh.append(alert)
            job_id: int | None = None
            if fresh:
                alerts = tuple(fresh)
                job = Notification(
                    receiver=notification.receiver,
                    status=_status_of(alerts),
                    alerts=alerts,
                    group_labels=notification.group_labels,
                    common_labels=notification.common_labels,
                    common_annotations=notification.common_annotations,
                    external_url=notification.external_url,
                    group_key=notification.group_key,
                    truncated_alerts=notification.truncated_alerts,
                )
                cursor = conn.execute(
                    "INSERT INTO receiver_jobs (created, notification, next_attempt_at) "
                    "VALUES (?, ?, ?)",
                    (now, json.dumps(encode_notification(job)), now),
                )
                job_id = cursor.lastrowid
        self._refresh_counts()
        return Accepted(job_id, tuple(fresh), len(notification.alerts) - len(fresh))

    # -- the worker's side -------------------------------------------------------------------

    def _jobs(self, where: str, args: tuple[object, ...] = ()) -> list[Job]:
        rows = self._db.connection.execute(
            "SELECT id, created, notification, planned, actions_done, attempts, next_attempt_at, "
            f"last_error FROM receiver_jobs WHERE {where} ORDER BY id",
            args,
        ).fetchall()
        return [
            Job(r[0], r[1], parse_notification(json.loads(r[2])), bool(r[3]), bool(r[4]), *r[5:])
            for r in rows
        ]

    def job(self, job_id: int) -> Job | None:
        found = self._jobs("id = ?", (job_id,))
        return found[0] if found else None

    def awaiting_actions(self) -> list[Job]:
        return self._jobs("state = 'pending' AND actions_done = 0")

    def awaiting_notification(self) -> list[Job]:
        return self._jobs("state = 'pending' AND actions_done = 1")

    def next_to_notify(self) -> Job | None:
        """The oldest pending job: messages go out in the order the alerts came in."""
        found = self._jobs("id = (SELECT min(id) FROM receiver_jobs WHERE state = 'pending')")
        return found[0] if found else None

    def plan(self, job_id: int, switches: list[tuple[str, bool]]) -> None:
        """Record a job's plug switches once; a restart reuses them rather than re-planning."""
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT INTO receiver_steps (job_id, seq, plug, turn_on) VALUES (?, ?, ?, ?)",
                [(job_id, seq, plug, int(on)) for seq, (plug, on) in enumerate(switches)],
            )
            conn.execute("UPDATE receiver_jobs SET planned = 1 WHERE id = ?", (job_id,))

    def steps(self, job_id: int) -> list[Step]:
        rows = self._db.connection.execute(
            "SELECT seq, plug, turn_on, done, result FROM receiver_steps WHERE job_id = ? "
            "ORDER BY seq",
            (job_id,),
        ).fetchall()
        return [Step(job_id, r[0], r[1], bool(r[2]), bool(r[3]), _result(r[4])) for r in rows]

    def step_done(
        self,
        job_id: int,
        seq: int,
        result: PlugResult,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Record a switch's result; ``also`` writes in the same transaction."""
        with self._db.transaction() as conn:
            if also is not None:
                also(conn)
            conn.execute(
                "UPDATE receiver_steps SET done = 1, result = ? WHERE job_id = ? AND seq = ?",
                (_result_json(result), job_id, seq),
            )

    def step_tried(self, job_id: int, seq: int) -> int:
        """Count a try of a step before it is made; the tries before this one.

        A step tried before was interrupted (a crash) after the switch may already have acted:
        what it reads now is not what the plug was before."""
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT tries FROM receiver_steps WHERE job_id = ? AND seq = ?", (job_id, seq)
            ).fetchone()
            conn.execute(
                "UPDATE receiver_steps SET tries = tries + 1 WHERE job_id = ? AND seq = ?",
                (job_id, seq),
            )
        return 0 if row is None else int(row[0])

    def progress(self, job_id: int) -> JobProgress:
        """The parts of this job's notification already delivered, written through."""
        return JobProgress(self._db, job_id)

    def actions_finished(self, job_id: int) -> None:
        with self._db.transaction() as conn:
            conn.execute("UPDATE receiver_jobs SET actions_done = 1 WHERE id = ?", (job_id,))

    def delivered(self, job_id: int, now: float) -> None:
        self._finish(job_id, "done", now, "")

    def dead(self, job_id: int, now: float, error: str) -> None:
        self._finish(job_id, "dead", now, error)

    def _finish(self, job_id: int, state: JobState, now: float, error: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE receiver_jobs SET state = ?, finished = ?, last_error = ?, "
                "attempts = attempts + 1 WHERE id = ?",
                (state, now, error, job_id),
            )
        self._refresh_counts()

    def prune(self, now: float, retention: float) -> int:
        """Forget dedup keys and finished jobs older than ``retention``; pending work stays."""
        cutoff = now - retention
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM receiver_dedup WHERE last_seen < ?", (cutoff,))
            old = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM receiver_jobs WHERE state != 'pending' AND finished < ?",
                    (cutoff,),
                )
            ]
            conn.executemany("DELETE FROM receiver_steps WHERE job_id = ?", [(i,) for i in old])
            conn.executemany("DELETE FROM receiver_parts WHERE job_id = ?", [(i,) for i in old])
            conn.executemany("DELETE FROM receiver_lanes WHERE job_id = ?", [(i,) for i in old])
            conn.executemany("DELETE FROM receiver_jobs WHERE id = ?", [(i,) for i in old])
        self._refresh_counts()
        return len(old)

    # -- what the metrics read (memory only) --------------------------------------------------

    def _refresh_counts(self) -> None:
        conn = self._db.connection
        try:
            rows = conn.execute("SELECT state, count(*) FROM receiver_jobs GROUP BY state")
            found: dict[str, int] = dict(rows.fetchall())
            self._counts = {s: found.get(s, 0) for s in _STATES}
            (self._oldest_pending,) = conn.execute(
                "SELECT min(created) FROM receiver_jobs WHERE state = 'pending'"
            ).fetchone()
        except sqlite3.Error:
            pass  # the metrics keep their last values; the write that failed is reported

    @property
    def counts(self) -> dict[JobState, int]:
        return dict(self._counts)

    @property
    def oldest_pending_created(self) -> float | None:
        return self._oldest_pending

    def dedup_keys(self) -> int:
        (count,) = self._db.connection.execute("SELECT count(*) FROM receiver_dedup").fetchone()
        return int(count)
