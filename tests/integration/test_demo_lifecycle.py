"""`gridwatch demo` ended the ways a user's session ends it — a hang-up of its process group (a
closed terminal, a dropped SSH connection), SIGTERM while it is still starting, SIGKILL of the
group — leaves no process alive and no port taken; a killed run's folders go at the next start.

Each demo runs in its own session with a mark in its environment that its children inherit, so
the test finds exactly what this demo started (also after it died and they moved under init),
never another run's Prometheus or dbus-daemon. Its TMPDIR is a folder of the test's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridwatch.binaries import alertmanager_binary
from gridwatch.sim.polling import wait_until
from tests.helpers import one_demo_at_a_time
from tests.integration.test_cli import fetch, free_port, gridwatch, need_binary
from tests.process_guard import Proc, kill, listeners, marked

pytestmark = pytest.mark.integration

MARK = "GRIDWATCH_DEMO_TEST"
BANNER = "Press Ctrl-C"
BOUND = 60.0  # seconds: only a guard against a hang, the demo starts in a few


@dataclass
class Demo:
    proc: asyncio.subprocess.Process
    mark: str
    tmp: Path
    log: Path
    stdout: str = ""

    def ours(self) -> list[Proc]:
        """Every live process of this demo: itself and what it started."""
        return marked(MARK, self.mark)

    def children(self) -> list[Proc]:
        return [p for p in self.ours() if p.pid != self.proc.pid]

    def folders(self) -> list[Path]:
        return sorted(self.tmp.glob("gridwatch-*"))

    def ports(self) -> set[int]:
        """Every loopback port the demo printed."""
        return {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", self.stdout)}

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def read_until(self, marker: str) -> str:
        assert self.proc.stdout is not None
        while marker not in self.stdout:
            line = await asyncio.wait_for(self.proc.stdout.readline(), BOUND)
            assert line, f"demo exited before printing {marker!r}:\n{self.stderr()[-3000:]}"
            self.stdout += line.decode()
        return self.stdout

    async def until_child(self, name: str) -> None:
        async def started() -> bool:
            assert self.proc.returncode is None, f"demo exited:\n{self.stderr()[-3000:]}"
            return any(p.name == name for p in self.children())

        await wait_until(started, timeout=BOUND, what=f"the demo to start {name}")

    async def exit_code(self) -> int:
        return await asyncio.wait_for(self.proc.wait(), BOUND)

    async def left_alive(self) -> list[Proc]:
        """What is still alive once everything had time to stop (empty when all went)."""
        with contextlib.suppress(AssertionError):
            await wait_until(
                lambda: _none(self.ours()), timeout=BOUND, what="the demo's processes to end"
            )
        return self.ours()

    def ports_held(self, ports: set[int]) -> dict[int, list[Proc]]:
        """Ports that a process of this demo still listens on (another run may hold 9090)."""
        held = {}
        for port in sorted(ports):
            if _bindable(port):
                continue
            if ours := marked(MARK, self.mark, listeners(port)):
                held[port] = ours
        return held


async def _none(procs: list[Proc]) -> bool:
    return not procs


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server would
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """The demo's TMPDIR: short, because the private bus's socket path lives below it."""
    folder = Path(tempfile.mkdtemp(prefix="gw-life-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def demo(tmp: Path, *args: str) -> AsyncIterator[Demo]:
    """`gridwatch demo` in its own session; whatever of it survives the test is killed."""
    mark = secrets.token_hex(6)
    log = tmp / f"demo-{mark}.log"
    async with one_demo_at_a_time(), _started(tmp, mark, log, args) as running:
        yield running


@contextlib.asynccontextmanager
async def _started(tmp: Path, mark: str, log: Path, args: tuple[str, ...]) -> AsyncIterator[Demo]:
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gridwatch",
            "demo",
            "--port",
            "0",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp), MARK: mark},
        )
    running = Demo(proc, mark, tmp, log)
    try:
        yield running
    finally:
        kill(running.ours())
        if proc.returncode is None:
            await proc.wait()


def need_the_whole_demo() -> None:
    need_binary("prometheus")
    need_binary("dbus-daemon")
    if alertmanager_binary() is None:
        need_binary("prometheus-alertmanager")


def started_programs(d: Demo) -> set[str]:
    return {p.name for p in d.children()}


def whole_demo_programs() -> set[str]:
    binary = alertmanager_binary()
    assert binary is not None
    return {"dbus-daemon", "prometheus", Path(binary).name}


async def test_hangup_of_the_group_stops_the_demo_and_all_it_started(short_tmp: Path) -> None:
    need_the_whole_demo()
    async with demo(short_tmp) as d:
        await d.read_until(BANNER)
        assert whole_demo_programs() <= started_programs(d)
        ports = d.ports()
        os.killpg(d.proc.pid, signal.SIGHUP)  # what a closed terminal sends
        assert await d.exit_code() == 0, d.stderr()[-3000:]
        assert await d.left_alive() == []
        assert d.ports_held(ports) == {}
        assert d.folders() == []  # a clean stop removes its temporary folders
        assert "received SIGHUP" in d.stderr()


async def test_sigterm_during_start_up_stops_what_has_started(short_tmp: Path) -> None:
    need_the_whole_demo()
    async with demo(short_tmp) as d:
        # The private bus is the first program the demo starts; Prometheus comes seconds later.
        await d.until_child("dbus-daemon")
        d.proc.send_signal(signal.SIGTERM)
        assert await d.exit_code() == 0, d.stderr()[-3000:]
        assert await d.left_alive() == []
        assert d.ports_held(d.ports()) == {}
        assert d.folders() == []
        assert "received SIGTERM during start-up" in d.stderr()


async def test_sigkill_of_the_group_takes_the_children_along(short_tmp: Path) -> None:
    need_the_whole_demo()
    async with demo(short_tmp) as d:
        await d.read_until(BANNER)
        assert whole_demo_programs() <= started_programs(d)
        ports = d.ports()
        os.killpg(d.proc.pid, signal.SIGKILL)  # the demo cannot clean up: the kernel must
        assert await d.exit_code() == -signal.SIGKILL
        assert await d.left_alive() == []
        assert d.ports_held(ports) == {}
        left = d.folders()
        assert left, "a killed demo cannot remove its folders"
        assert all(f"-{d.proc.pid}-" in path.name for path in left)

    # The next start removes what the killed run left (and nothing of a live one).
    async with demo(short_tmp, "--no-prometheus") as again:
        await again.read_until(BANNER)
        assert [path for path in left if path.exists()] == []
        assert again.folders() and all(f"-{again.proc.pid}-" in p.name for p in again.folders())
        again.proc.send_signal(signal.SIGTERM)
        assert await again.exit_code() == 0
        assert await again.left_alive() == []


@pytest.mark.parametrize("command", ["run", "receiver"])
async def test_long_running_commands_stop_cleanly_on_hangup(command: str, tmp_path: Path) -> None:
    """No reload in gridwatch: SIGHUP stops `run` and `receiver` the way SIGTERM does."""
    port = free_port()
    (tmp_path / "am.token").write_text("a-webhook-token\n")
    config = tmp_path / "gridwatch.yml"
    config.write_text(
        f"site: {{data_dir: {tmp_path / 'data'}}}\n"
        f"exporter: {{listen_address: 127.0.0.1, port: {port}}}\n"
        f"receiver: {{listen_address: 127.0.0.1, port: {port}, token_file: am.token}}\n"
    )
    proc = await gridwatch(command, "-c", str(config))
    try:

        async def healthy() -> bool:
            return await fetch(f"http://127.0.0.1:{port}/healthz") is not None

        await wait_until(healthy, timeout=BOUND, what=f"`gridwatch {command}` answering")
        proc.send_signal(signal.SIGHUP)
        _, stderr = await asyncio.wait_for(proc.communicate(), BOUND)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert "received SIGHUP" in stderr.decode() and "shutting down" in stderr.decode()
