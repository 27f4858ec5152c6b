"""The SQLite state file: values survive a reopen, a corrupt file is rebuilt, writes are atomic."""

from __future__ import annotations

import logging
import sqlite3
import stat
from pathlib import Path

import pytest

from gridwatch.config import parse_config
from gridwatch.core.startup import StartupError
from gridwatch.core.statedb import StateDB
from gridwatch.receiver.app import Receiver
from tests.receiver_fakes import receiver_config


def test_values_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state" / "gridwatch.db"
    db = StateDB(path)
    db.put("cost", "home", {"import": 12.5, "export": 0.25})
    db.put("cost", "cabin", {"import": 1.0})
    db.close()

    db = StateDB(path)
    assert db.get("cost", "home") == {"import": 12.5, "export": 0.25}
    assert dict(db.items("cost")) == {
        "cabin": {"import": 1.0},
        "home": {"import": 12.5, "export": 0.25},
    }
    assert db.get("cost", "nowhere", "default") == "default"
    db.close()


def test_corrupt_file_is_moved_aside_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "gridwatch.db"
    path.write_bytes(b"this is not a database" * 200)
    with caplog.at_level(logging.WARNING):
        db = StateDB(path)
    db.put("prices", "SE3/2026-11-22", [1.0, 2.0])
    assert db.get("prices", "SE3/2026-11-22") == [1.0, 2.0]
    db.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreadable" in warnings[0].getMessage()
    kept = list(tmp_path.glob("gridwatch.db.corrupt-*"))
    assert len(kept) == 1, "the broken file is kept for inspection, not deleted"


def test_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "gridwatch.db")
    db.put("peaks", "2026-11", [1])
    with pytest.raises(RuntimeError), db.transaction() as conn:
        StateDB.put_in(conn, "peaks", "2026-11", [1, 2])
        StateDB.put_in(conn, "peaks", "2026-12", [3])
        raise RuntimeError("crash between the two writes")
    assert db.get("peaks", "2026-11") == [1]
    assert db.get("peaks", "2026-12") is None


def test_component_tables() -> None:
    db = StateDB(":memory:")
    db.ensure_schema("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v REAL)")
    db.ensure_schema("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v REAL)")  # idempotent
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES ('a', 1.5)")
    assert db.connection.execute("SELECT v FROM t WHERE k = 'a'").fetchone() == (1.5,)


def _locked_by_another_process(path: Path) -> sqlite3.Connection:
    """What a second receiver (or a backup tool) holding the file looks like."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_locked_file_is_reported_never_moved_aside(tmp_path: Path) -> None:
    """Issue 15, fault 2: "database is locked" was taken for corruption and the file with the
    pending jobs moved aside. A lock is waited for, then reported; the work stays."""
    path = tmp_path / "receiver.db"
    db = StateDB(path)
    db.put("outbox", "job", "pending work")
    db.close()
    other = _locked_by_another_process(path)
    try:
        with pytest.raises(StartupError) as caught:
            StateDB(path, busy_timeout=0.2)
        assert caught.value.key == "site.data_dir"
        assert "another process holds it" in caught.value.message
        assert not caught.value.config_error  # exit 1: try again later, nothing to fix
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert list(tmp_path.glob("*.corrupt-*")) == []
    db = StateDB(path)
    assert db.get("outbox", "job") == "pending work"
    db.close()


def test_state_files_are_private_to_their_owner(tmp_path: Path) -> None:
    """Issue 15, fault 8: files were created 0644; the receiver's holds chat texts."""
    db = StateDB(tmp_path / "data" / "receiver.db")
    db.put("a", "b", "c")
    files = [p for p in (tmp_path / "data").iterdir() if p.name.startswith("receiver.db")]
    assert {p.name for p in files} >= {"receiver.db", "receiver.db-wal"}
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    db.close()


def test_the_receivers_outbox_syncs_every_commit(tmp_path: Path) -> None:
    """Issue 15, fault 8: NORMAL may lose the last commits on power loss; the outbox is FULL."""
    receiver = Receiver(parse_config(receiver_config(tmp_path)))
    assert receiver.db.connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    receiver.db.close()
    cache = StateDB(tmp_path / "gridwatch.db")  # a cache can be refetched: NORMAL is enough
    assert cache.connection.execute("PRAGMA synchronous").fetchone() == (1,)
    cache.close()


def test_a_data_dir_that_cannot_be_created_is_a_startup_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StartupError) as caught:
        StateDB(tmp_path / "file" / "data" / "gridwatch.db")
    assert caught.value.key == "site.data_dir" and caught.value.config_error
