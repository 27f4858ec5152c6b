"""gridwatch.children with real processes: a child dies with its parent, however the parent
ends; only a dead run's own temporary folders are swept."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gridwatch import children
from tests.process_guard import descendants, marked, read, wait_gone

pytestmark = pytest.mark.integration

# A parent that starts `sleep` through children.spawn, says the child's pid, and waits.
PARENT = """
import sys
from gridwatch import children
child = children.spawn(["sleep", "300"])
print(child.pid, flush=True)
sys.stdin.read()
"""


def test_the_kernel_ends_a_child_whose_parent_was_killed() -> None:
    mark = f"{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "GRIDWATCH_CHILDREN_TEST": mark}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        child = read(pid)
        assert child is not None and child.name == "sleep"
        assert os.getsid(pid) == pid  # its own session: a terminal's signals are not for it
        parent.kill()  # SIGKILL: no cleanup of its own
        parent.wait()
        left = wait_gone(lambda: marked("GRIDWATCH_CHILDREN_TEST", mark), 30)
        assert left == []
    finally:
        parent.kill()
        parent.wait()


def test_stop_ends_and_reaps_the_child() -> None:
    child = children.spawn(["sleep", "300"], stdout=subprocess.PIPE)
    assert [p.pid for p in descendants(os.getpid())] == [child.pid]
    children.stop(child)
    assert child.returncode == -15
    assert child.stdout is not None and child.stdout.closed


def test_children_are_started_from_the_main_thread_only() -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            children.spawn(["true"])
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "main thread" in str(errors[0])


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_sweep_removes_only_dead_runs_own_folders(tmp_path: Path) -> None:
    dead = _dead_pid()
    dead_run = tmp_path / f"gridwatch-demo-{dead}-abc_12"
    (dead_run / "prometheus").mkdir(parents=True)
    live_run = tmp_path / f"gridwatch-dbus-{os.getpid()}-xyz"
    live_run.mkdir()
    not_ours = tmp_path / f"otherapp-demo-{dead}-abc"
    not_ours.mkdir()
    old_style = tmp_path / "gridwatch-dbus-k2j4h5"  # no pid in the name: whose, we cannot tell
    old_style.mkdir()
    a_file = tmp_path / f"gridwatch-sim-{dead}-file"
    a_file.write_text("")
    a_link = tmp_path / f"gridwatch-sim-{dead}-link"
    a_link.symlink_to(not_ours)

    assert children.sweep_temp_dirs(tmp_path) == [dead_run]
    assert not dead_run.exists()
    assert all(p.exists() for p in (live_run, not_ours, old_style, a_file, a_link))


def test_temp_prefix_names_the_kind_and_this_process() -> None:
    assert children.temp_prefix("demo") == f"gridwatch-demo-{os.getpid()}-"
    with pytest.raises(ValueError, match="lower-case letters"):
        children.temp_prefix("demo-1")
