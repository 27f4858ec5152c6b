"""The real `gridwatch receiver` process for tests that kill it: started, and killed if it
still runs at the end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path


@contextlib.asynccontextmanager
async def receiver(config: Path, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`gridwatch receiver -c config`, its stderr appended to ``log`` (kept across restarts)."""
    with log.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "gridwatch", "receiver", "-c", str(config)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
