"""The SQLite state file: values survive a reopen, a corrupt file is rebuilt, writes are atomic."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gridwatch.core.statedb import StateDB


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
