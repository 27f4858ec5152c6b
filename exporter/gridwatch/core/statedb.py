"""The SQLite state file: price cache, cost and peak accumulators, anything that must survive
a restart. One file per process under ``data_dir``.

Writes are transactional. A corrupt file is moved aside and rebuilt with one warning, never a
crash: everything in it can be fetched or accumulated again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_KV_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (namespace, key)
)
"""


class StateDB:
    """A thin wrapper over one sqlite3 connection, used from the event loop thread only.

    Components either keep JSON values in the shared key-value table (``get``/``put``) or create
    their own tables with ``ensure_schema``.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            conn = sqlite3.connect(":memory:", isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = self._connect_checked(self.path)
            except sqlite3.DatabaseError as exc:
                aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
                log.warning(
                    "state file %s is unreadable (%s); moved to %s and starting a new one",
                    self.path,
                    exc,
                    aside.name,
                )
                self.path.replace(aside)
                conn = self._connect_checked(self.path)
        conn.execute(_KV_SCHEMA)
        return conn

    @staticmethod
    def _connect_checked(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None)  # explicit transactions only
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            (result,) = conn.execute("PRAGMA quick_check").fetchone()
            if result != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {result}")
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def ensure_schema(self, *statements: str) -> None:
        """Run ``CREATE TABLE IF NOT EXISTS …`` statements of a component, in one transaction."""
        with self.transaction() as conn:
            for statement in statements:
                conn.execute(statement)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together or not at all."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        row = self._conn.execute(
            "SELECT value FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        ).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, namespace: str, key: str, value: Any) -> None:
        with self.transaction() as conn:
            self.put_in(conn, namespace, key, value)

    @staticmethod
    def put_in(conn: sqlite3.Connection, namespace: str, key: str, value: Any) -> None:
        """Write inside a transaction the caller already holds."""
        conn.execute(
            "INSERT INTO kv (namespace, key, value, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, "
            "updated = excluded.updated",
            (namespace, key, json.dumps(value, separators=(",", ":")), time.time()),
        )

    def items(self, namespace: str) -> Iterator[tuple[str, Any]]:
        rows = self._conn.execute(
            "SELECT key, value FROM kv WHERE namespace = ? ORDER BY key", (namespace,)
        ).fetchall()
        for key, value in rows:
            yield key, json.loads(value)

    def close(self) -> None:
        self._conn.close()
