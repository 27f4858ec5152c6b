"""The central side of a fleet on loopback for the fleet tests: the real VictoriaMetrics behind
the real vmauth, configured from a token folder made with `gridwatch fleet add-site`.

Skips without the victoria-metrics package, except under CI=true where it must be installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from gridwatch.binaries import Binary
from gridwatch.cli import main
from gridwatch.fleet import processes
from gridwatch.fleet.auth import vmauth_config
from gridwatch.fleet.sites import read_token, sites
from tests.helpers import missing_tool

# Queries see samples up to 1 s old (default 30 s) and no cached results, so a test reads what
# has just arrived; neither changes what is stored.
VM_TEST_FLAGS = ["-search.latencyOffset=1s", "-search.disableCache"]


def require_victoria_metrics() -> None:
    if missing := processes.missing():
        missing_tool(str(missing), "victoria-metrics")


def add_sites(folder: Path, *names: str) -> dict[str, str]:
    """Sites made as an operator makes them (the CLI); returns name → token."""
    for name in names:
        assert main(["fleet", "add-site", name, "--dir", str(folder)]) == 0
    return sites(folder)


@dataclass
class Central:
    folder: Path
    workdir: Path
    storage: Binary
    auth: Binary
    session: aiohttp.ClientSession
    offset: float = 0.0  # the store's clock minus this process's (see sync_clock)

    async def sync_clock(self) -> None:
        """Take "now" from VictoriaMetrics (its HTTP Date header), so the windows the test asks
        for are on the binaries' clock even when this process runs under libfaketime."""
        async with self.session.get(f"{self.storage.url}/health") as response:
            served = email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()
        self.offset = served + 0.5 - time.time()  # the header truncates to the second

    def now(self) -> float:
        return time.time() + self.offset

    @property
    def url(self) -> str:
        """Where sites and Grafana connect: vmauth."""
        return self.auth.url

    @property
    def read_token(self) -> str:
        return read_token(self.folder)

    def token_file(self, site: str) -> Path:
        return self.folder / "sites" / f"{site}.token"

    async def get(self, path: str, **params: str) -> Any:
        """A query through vmauth with the read token (as Grafana asks)."""
        headers = {"Authorization": f"Bearer {self.read_token}"}
        async with self.session.get(
            f"{self.url}/api/v1/{path}", params=params, headers=headers
        ) as response:
            body = await response.json(content_type=None)
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body}")
        return body["data"]

    async def series(self, match: str, start: float, end: float) -> list[dict[str, str]]:
        found: list[dict[str, str]] = await self.get(
            "series", **{"match[]": match, "start": str(start), "end": str(end)}
        )
        return found

    async def post(self, path: str, body: bytes, token: str, **headers: str) -> int:
        async with self.session.post(
            f"{self.url}{path}", data=body, headers={"Authorization": f"Bearer {token}", **headers}
        ) as response:
            await response.read()
            return response.status

    async def stop_storage(self) -> None:
        await asyncio.to_thread(self.storage.stop)

    async def start_storage(self) -> None:
        """VictoriaMetrics again on the same port and data folder (vmauth points there)."""
        self.storage = processes.start_victoria_metrics(
            self.workdir / "vm", self.storage.port, extra=VM_TEST_FLAGS
        )
        await self.storage.wait_ready()


@contextlib.asynccontextmanager
async def central(workdir: Path, *names: str) -> Any:
    """VictoriaMetrics and vmauth with a token for each of ``names``; yields a ``Central``."""
    require_victoria_metrics()
    folder = workdir / "fleet"
    tokens = add_sites(folder, *names)
    storage = processes.start_victoria_metrics(workdir / "vm", extra=VM_TEST_FLAGS)
    auth: Binary | None = None
    box: Central | None = None
    try:
        await storage.wait_ready()
        config = vmauth_config(tokens, read_token(folder), storage.url)
        auth = processes.start_vmauth(config, workdir / "vmauth")
        await auth.wait_ready()
        async with aiohttp.ClientSession() as session:
            box = Central(folder, workdir, storage, auth, session)
            await box.sync_clock()
            yield box
    finally:
        if auth is not None:
            auth.stop()
        storage.stop()
        if box is not None and box.storage is not storage:  # restarted by the test
            box.storage.stop()


async def eventually(what: str, check: Any, timeout: float = 30.0) -> Any:
    """Retry the async ``check`` until it returns something truthy (data becomes searchable
    within about a second of arriving); a limit that only guards against hangs."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)
