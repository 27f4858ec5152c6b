"""Nothing the test run started outlives it: a session-level check, and /proc helpers for tests.

At start the run marks its environment with ``GRIDWATCH_TEST_RUN=<id>``, which every process it
starts inherits (and their children in turn). After the last fixture is torn down, every process
still alive that carries this run's mark, or descends from this pytest process, fails the run:
it is named in the summary and then killed. Processes of other runs (other checkouts, other
users, a demo someone is running) carry another mark or none, and are never looked at twice.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MARK = "GRIDWATCH_TEST_RUN"
GRACE = 10.0  # seconds for processes already told to stop (SIGTERM just sent) to finish
_LEFT = pytest.StashKey[list["Proc"]]()
_SAVED = pytest.StashKey[str | None]()


@dataclass(frozen=True)
class Proc:
    """One live process, as /proc shows it."""

    pid: int
    ppid: int
    state: str
    argv: tuple[str, ...]
    comm: str

    @property
    def name(self) -> str:
        """The program's file name (argv[0]); comm is cut at 15 characters."""
        return Path(self.argv[0]).name if self.argv else self.comm

    def __str__(self) -> str:
        command = " ".join(self.argv) or f"[{self.comm}]"
        if len(command) > 200:
            command = command[:200] + "…"
        return f"pid {self.pid} (parent {self.ppid}): {command}"


def read(pid: int) -> Proc | None:
    """The process ``pid``, or None when it is gone or a zombie (dead, only not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in {"Z", "X"}:
        return None
    argv = tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    return Proc(pid, int(fields[1]), fields[0], argv, comm)


def processes() -> Iterator[Proc]:
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (proc := read(int(entry))) is not None:
            yield proc


def descendants(root: int, among: Iterable[Proc] | None = None) -> list[Proc]:
    """Live processes below ``root`` in the parent tree (not ``root`` itself)."""
    procs = list(processes() if among is None else among)
    children: dict[int, list[Proc]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def marked(name: str, value: str, among: Iterable[Proc] | None = None) -> list[Proc]:
    """Live processes whose environment has ``name=value``: what a run started, even after
    their parent died and they moved under init. Only this user's environments are readable."""
    needle = f"{name}={value}".encode()
    found = []
    for proc in processes() if among is None else among:
        try:
            environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(proc)
    return found


def listeners(port: int) -> list[Proc]:
    """Live processes (of this user: others' descriptors are unreadable) with a TCP socket
    listening on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    found = []
    for proc in processes() if inodes else ():
        try:
            fds = os.listdir(f"/proc/{proc.pid}/fd")
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{proc.pid}/fd/{fd}") in inodes:
                    found.append(proc)
                    break
    return found


def leftovers(run_id: str) -> list[Proc]:
    me = os.getpid()
    procs = list(processes())
    found = {p.pid: p for p in descendants(me, procs) + marked(MARK, run_id, procs)}
    found.pop(me, None)
    return sorted(found.values(), key=lambda p: p.pid)


def wait_gone(still: Callable[[], list[Proc]], timeout: float) -> list[Proc]:
    """Poll ``still()`` (live processes) until it is empty or ``timeout`` seconds have passed;
    returns what is left. A bound against hangs only, never a timing check."""
    deadline = time.monotonic() + timeout
    left = still()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = still()
    return left


def kill(procs: Iterable[Proc]) -> None:
    for proc in procs:
        again = read(proc.pid)
        if again is not None and again.argv == proc.argv:  # not a new process with that pid
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGKILL)


# -- the plugin ---------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SAVED] = os.environ.get(MARK)
    os.environ[MARK] = f"{os.getpid()}-{secrets.token_hex(4)}"


@pytest.hookimpl(trylast=True)  # after the session fixtures have been torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run_id = os.environ.get(MARK, "")
    left = wait_gone(lambda: leftovers(run_id), GRACE)
    session.config.stash[_LEFT] = left
    if left:
        kill(left)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    left = terminalreporter.config.stash.get(_LEFT, [])
    if not left:
        return
    terminalreporter.section("processes left behind by the tests", red=True, bold=True)
    for proc in left:
        terminalreporter.write_line(str(proc), red=True)
    terminalreporter.write_line(f"{len(left)} process(es) outlived the test run (now killed)")


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_SAVED, None)
    if saved is None:
        os.environ.pop(MARK, None)
    else:
        os.environ[MARK] = saved
