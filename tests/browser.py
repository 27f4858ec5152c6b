"""A real headless Chromium for the live page's tests, driven over the DevTools protocol.

Started through ``gridwatch.children.spawn`` (own session, ended by the kernel if the test run
dies) with a fresh profile, no network services of its own (no sync, no component updates, no
background requests), listening for DevTools on 127.0.0.1 only; stopped with its whole process
group (renderer and helper processes).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gridwatch import children
from gridwatch.sim.polling import wait_until

FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in CI containers
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing (scripts/system-deps.sh installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


class Chromium:
    def __init__(self, width: int = 412, height: int = 1600) -> None:
        self.size = (width, height)
        self._profile = Path(tempfile.mkdtemp(prefix=children.temp_prefix("chromium")))
        self._process: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    async def open(self, url: str) -> None:
        argv = [chromium_path(), *FLAGS, f"--user-data-dir={self._profile}",
                f"--window-size={self.size[0]},{self.size[1]}", url]  # fmt: skip
        self._process = children.spawn(argv)
        port_file = self._profile / "DevToolsActivePort"

        def written() -> bool:  # the file appears before its first line is written
            return port_file.exists() and "/devtools/browser/" in port_file.read_text()

        await wait_until(written, what="chromium's DevTools port", timeout=30)
        port = int(port_file.read_text().split()[0])
        self._session = aiohttp.ClientSession()
        pages: list[dict[str, Any]] = []

        async def page_listed() -> bool:
            async with self._session.get(f"http://127.0.0.1:{port}/json/list") as r:  # type: ignore[union-attr]
                pages[:] = [t for t in await r.json() if t.get("type") == "page"]
            return bool(pages)

        await wait_until(page_listed, what="chromium's page", timeout=30)
        self._ws = await self._session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._ws is not None
        ident = next(self._ids)
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self._ws.receive_json(), 30)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self._process is not None:
            await asyncio.to_thread(children.stop, self._process)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)  # helpers left in its session
        shutil.rmtree(self._profile, ignore_errors=True)
