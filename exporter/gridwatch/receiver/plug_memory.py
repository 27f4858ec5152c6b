"""What each plug was before load shedding switched it off, so the restore puts it back.

A heater switched off by hand before the grid went down stays off when the grid returns. The
state is remembered at the first "off" of a shedding (a second alert while the plug is already
shed must not overwrite it with "off") and forgotten at the restore. It lives in the outbox's
state file, so it survives a restart and is not pruned with old jobs during a long outage.
"""

from __future__ import annotations

import sqlite3

from gridwatch.core.statedb import StateDB

_SCHEMA = """CREATE TABLE IF NOT EXISTS receiver_plug_memory (
    plug TEXT PRIMARY KEY,
    was_on INTEGER NOT NULL,
    since REAL NOT NULL
)"""


class PlugMemory:
    def __init__(self, db: StateDB) -> None:
        self._db = db
        db.ensure_schema(_SCHEMA)

    @staticmethod
    def shed(conn: sqlite3.Connection, plug: str, was_on: bool, now: float) -> None:
        """Note the state before shedding, unless this shedding already noted one. Inside the
        caller's transaction (the one that records the switch), so a crash keeps both or
        neither."""
        conn.execute(
            "INSERT OR IGNORE INTO receiver_plug_memory (plug, was_on, since) VALUES (?, ?, ?)",
            (plug, int(was_on), now),
        )

    def was_on(self, plug: str) -> bool | None:
        row = self._db.connection.execute(
            "SELECT was_on FROM receiver_plug_memory WHERE plug = ?", (plug,)
        ).fetchone()
        return None if row is None else bool(row[0])

    @staticmethod
    def restored(conn: sqlite3.Connection, plug: str) -> None:
        conn.execute("DELETE FROM receiver_plug_memory WHERE plug = ?", (plug,))
