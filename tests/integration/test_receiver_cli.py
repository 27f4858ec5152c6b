"""`gridwatch receiver -c FILE` as a user runs it: refuses bad configs, serves, SIGTERM, resumes."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest

from gridwatch.sim.polling import wait_until
from tests.integration.test_cli import free_port, gridwatch
from tests.receiver_fakes import AM_FIXTURES, TOKEN

pytestmark = pytest.mark.integration


async def _exit(proc: asyncio.subprocess.Process) -> tuple[int | None, str]:
    _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    return proc.returncode, stderr.decode()


@pytest.mark.parametrize(
    ("receiver", "names"),
    [
        ("", "receiver: missing"),
        ("receiver: {port: 9865}\n", "receiver.token_file: the receiver needs the bearer token"),
        ("receiver: {token: x, token_file: t}\n", "set either token or token_file"),
        ("receiver: {token: x, max_body: 1}\n", "receiver.max_body: unknown key"),
        ("receiver: {token: x, retry_max_age: soon}\n", "receiver.retry_max_age: "),
        ("receiver: {token_file: missing.token}\n", "receiver.token_file: "),
    ],
)
async def test_refuses_to_start_naming_the_key(tmp_path: Path, receiver: str, names: str) -> None:
    (tmp_path / "t").write_text("a-token")
    config = tmp_path / "gridwatch.yml"
    config.write_text(f"site: {{data_dir: {tmp_path}}}\n{receiver}")
    code, stderr = await _exit(await gridwatch("receiver", "-c", str(config)))
    assert code == 2, stderr
    assert str(config) in stderr and names in stderr
    assert not (tmp_path / "receiver.db").exists()


async def _post(url: str, body: bytes) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


async def _health(url: str) -> dict[str, object] | None:
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return json.loads(await response.text()) if response.status == 200 else None
    except aiohttp.ClientError:
        return None


async def test_serves_the_webhook_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "am.token").write_text(TOKEN + "\n")  # as Alertmanager's credentials_file
    config = tmp_path / "gridwatch.yml"
    config.write_text(
        "site: {data_dir: data}\n"
        f"receiver: {{listen_address: 127.0.0.1, port: {port}, token_file: am.token}}\n"
    )
    base = f"http://127.0.0.1:{port}"
    body = (AM_FIXTURES / "am0.25_webhook_v4_griddown_single.json").read_bytes()
    for run in range(2):
        proc = await gridwatch("receiver", "-c", str(config))
        try:

            async def healthy() -> bool:
                return await _health(base + "/healthz") is not None

            await wait_until(healthy, what="`gridwatch receiver` answering")
            assert await _post(base + "/alertmanager", body) == 200

            async def done() -> bool:
                health = await _health(base + "/healthz")
                return health is not None and health["outbox"] == {
                    "pending": 0,
                    "done": 1,
                    "dead": 0,
                }

            # No notifier configured: the job completes; after the restart it is remembered.
            await wait_until(done, what="the job done")
            proc.send_signal(signal.SIGTERM)
            code, stderr = await _exit(proc)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert code == 0, stderr
        assert "shutting down" in stderr and "Traceback" not in stderr
        assert TOKEN not in stderr
        expected = "1 new alert(s), 0 duplicate(s)" if run == 0 else "0 new alert(s), 1 duplicate"
        assert expected in stderr
    assert (tmp_path / "data" / "receiver.db").exists()
