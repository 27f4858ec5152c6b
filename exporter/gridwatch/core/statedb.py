"""The SQLite state file: price cache, cost and peak accumulators, anything that must survive
a restart. One file per process under ``data_dir``.

Writes are transactional. A corrupt file is moved aside and rebuilt with one warning, never a
crash: everything in it can be fetched or accumulated again. Only a file SQLite says is not a
database, or that fails its integrity check, is corrupt: a locked, busy or unreadable one is
waited for or reported (``StartupError``), never discarded with the work in it.

Files are created readable by their owner only (0600): the receiver's holds chat texts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from gridwatch.core.startup import StartupError

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

    def __init__(
        self,
        path: Path | str,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        # FULL syncs the WAL at every commit, so a commit survives a power cut (NORMAL may lose
        # the last ones): the receiver's outbox needs that, caches do not.
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout  # how long to wait for another process's lock
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            conn = sqlite3.connect(":memory:", isolation_level=None)
        else:
            self._create_private(self.path)
            try:
                conn = self._connect_checked(self.path)
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise StartupError(
                        "site.data_dir",
                        f"cannot open {self.path}: {exc}"
                        + (" (another process holds it)" if _is_busy(exc) else ""),
                        config_error=False,
                    ) from None
                aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
                log.warning(
                    "state file %s is unreadable (%s); moved to %s and starting a new one",
                    self.path,
                    exc,
                    aside.name,
                )
                self.path.replace(aside)
                for suffix in ("-wal", "-shm"):  # they belong to the old file
                    with contextlib.suppress(FileNotFoundError):
                        self.path.with_name(self.path.name + suffix).unlink()
                self._create_private(self.path)
                conn = self._connect_checked(self.path)
        conn.execute(_KV_SCHEMA)
        return conn

    @staticmethod
    def _create_private(path: Path) -> None:
        """Make the directory and an empty 0600 file; SQLite gives its -wal and -shm files the
        same mode. A directory that cannot be written is a StartupError naming data_dir."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            os.close(fd)
        except OSError as exc:
            raise StartupError(
                "site.data_dir", f"cannot create {path}: {exc.strerror or exc}"
            ) from None

    def _connect_checked(self, path: Path) -> sqlite3.Connection:
        # explicit transactions only; ``timeout`` waits for another process's lock
        conn = sqlite3.connect(path, isolation_level=None, timeout=self._busy_timeout)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
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


def _is_busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorname", "") in {"SQLITE_BUSY", "SQLITE_LOCKED"}


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Only what says the file itself is broken; locks, I/O and permissions are not."""
    name = getattr(exc, "sqlite_errorname", None)
    if name is None:
        return "quick_check" in str(exc)  # our own integrity check's verdict
    return name in {"SQLITE_NOTADB", "SQLITE_CORRUPT"}
