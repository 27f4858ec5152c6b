"""Child processes for the benchmarks, and what /proc says about them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from gridwatch import children

ROOT = Path(__file__).resolve().parent.parent  # the repo root, so `-m bench.…` resolves
PYTHON = sys.executable
_CLK_TCK = os.sysconf("SC_CLK_TCK")


class ChildError(RuntimeError):
    pass


class Child:
    """A subprocess whose stderr is drained continuously (a full pipe would stall it)."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self.lines: deque[str] = deque(maxlen=400)
        # Counted over the whole life (``lines`` keeps only the tail): what a soak reports.
        self.tracebacks = 0
        self.error_lines = 0
        self._eof = False
        self._changed = asyncio.Condition()
        self._drainer = asyncio.create_task(self._drain(), name=f"drain:{name}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _drain(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            self.tracebacks += line.startswith("Traceback")
            self.error_lines += " ERROR " in line or " CRITICAL " in line
            async with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        async with self._changed:
            self._eof = True
            self._changed.notify_all()

    async def wait_for_line(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first stderr line matching ``pattern``; fails early if the child exits."""
        found: list[re.Match[str]] = []

        def ready() -> bool:
            found[:] = [m for line in self.lines if (m := pattern.search(line))][:1]
            return bool(found) or self._eof

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(ready)
        if not found:
            tail = "\n".join(list(self.lines)[-20:])
            raise ChildError(f"{self.name} exited before saying {pattern.pattern!r}:\n{tail}")
        return found[0]

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self._drainer


@contextlib.asynccontextmanager
async def spawn(
    name: str, args: Sequence[str], env: Mapping[str, str] | None = None
) -> AsyncIterator[Child]:
    """Run ``python args…`` from the repo root; SIGTERM (then SIGKILL) on leaving.

    ``env`` adds to (or overrides) this process's environment."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env} if env else None,
        # Like every child of gridwatch: a killed benchmark does not leave its processes behind.
        preexec_fn=children.die_with_parent(),
    )
    child = Child(name, proc)
    try:
        yield child
    finally:
        await child.stop()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (its threads included), from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = text[text.rindex(")") + 2 :].split()  # comm may contain spaces; skip past it
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # fields 14 and 15 of proc(5)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ChildError(f"process {pid} has no VmRSS (exited?)")


def open_fds(pid: int) -> int:
    """Open file descriptors of a process (sockets, files, pipes), from /proc/<pid>/fd."""
    return len(os.listdir(f"/proc/{pid}/fd"))
