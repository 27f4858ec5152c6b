"""Delivery lanes: one per (job, target chat), each with its own retries and end state.

Messages to one chat go out in the order the jobs came in ("grid back" never overtakes "grid
down"), but chats are independent: a chat whose deliveries fail (or are slow) waits on its own,
while the others carry on. A job is finished when every target's lane is finished.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from gridwatch.core.statedb import StateDB

LaneState = Literal["pending", "done", "dead"]

# The table itself is part of the outbox's schema (created and pruned with the jobs).
SCHEMA = """CREATE TABLE IF NOT EXISTS receiver_lanes (
    job_id INTEGER NOT NULL REFERENCES receiver_jobs (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, target)
)"""


@dataclass(frozen=True, slots=True)
class Lane:
    job_id: int
    target: str
    state: LaneState = "pending"
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""


class Lanes:
    """The lanes table in the receiver's state file. Event loop thread only."""

    def __init__(self, db: StateDB) -> None:
        self._db = db

    def next_job(self, target: str) -> int | None:
        """The oldest pending job whose lane for ``target`` is not finished."""
        row = self._db.connection.execute(
            "SELECT j.id FROM receiver_jobs j LEFT JOIN receiver_lanes l "
            "ON l.job_id = j.id AND l.target = ? "
            "WHERE j.state = 'pending' AND coalesce(l.state, 'pending') = 'pending' "
            "ORDER BY j.id LIMIT 1",
            (target,),
        ).fetchone()
        return None if row is None else int(row[0])

    def get(self, job_id: int, target: str) -> Lane:
        row = self._db.connection.execute(
            "SELECT state, attempts, next_attempt_at, last_error FROM receiver_lanes "
            "WHERE job_id = ? AND target = ?",
            (job_id, target),
        ).fetchone()
        return Lane(job_id, target) if row is None else Lane(job_id, target, *row)

    def of_job(self, job_id: int) -> dict[str, Lane]:
        rows = self._db.connection.execute(
            "SELECT target, state, attempts, next_attempt_at, last_error FROM receiver_lanes "
            "WHERE job_id = ?",
            (job_id,),
        ).fetchall()
        return {r[0]: Lane(job_id, *r) for r in rows}

    def retry_later(self, lane: Lane, next_attempt_at: float, error: str) -> None:
        with self._db.transaction() as conn:
            self._upsert(conn, lane, "pending", next_attempt_at, error)
            # The job's own counters sum its lanes' failures (what /healthz and tests read).
            conn.execute(
                "UPDATE receiver_jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, lane.job_id),
            )

    def finish(self, lane: Lane, state: LaneState, error: str = "") -> None:
        with self._db.transaction() as conn:
            self._upsert(conn, lane, state, lane.next_attempt_at, error)

    @staticmethod
    def _upsert(
        conn: sqlite3.Connection, lane: Lane, state: str, next_at: float, error: str
    ) -> None:
        conn.execute(
            "INSERT INTO receiver_lanes (job_id, target, state, attempts, next_attempt_at, "
            "last_error) VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (job_id, target) DO UPDATE SET "
            "state = excluded.state, attempts = attempts + 1, "
            "next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error",
            (lane.job_id, lane.target, state, next_at, error),
        )
