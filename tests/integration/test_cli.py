"""The command line as a user runs it: run + SIGTERM, demo, pair-homewizard."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gridwatch.sim.homewizard.device import DeviceOptions, DeviceSimulator
from gridwatch.sim.homewizard.device_format import PRODUCTS
from gridwatch.sim.homewizard.peer import HomeWizardPeer
from gridwatch.sim.polling import wait_until
from tests.helpers import names, one_demo_at_a_time, parse_exposition, value
from tests.integration.conftest import FULL_V1, SimFactory

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def gridwatch(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gridwatch",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def read_until(proc: asyncio.subprocess.Process, marker: str, timeout: float = 30) -> str:
    """stdout of a running command up to the line containing ``marker``."""
    assert proc.stdout is not None
    output = ""
    while marker not in output:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout)
        assert line, f"command exited before printing {marker!r}: {output}"
        output += line.decode()
    return output


async def pair(sim: HomeWizardPeer, token_file: Path, wait: int) -> asyncio.subprocess.Process:
    return await gridwatch(
        "pair-homewizard",
        "127.0.0.1",
        *("--port", str(sim.https_port), "--ca-file", str(sim.ca_file)),
        *("--token-file", str(token_file), "--wait", str(wait)),
    )


async def fetch(url: str) -> str | None:
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return await response.text() if response.status == 200 else None
    except aiohttp.ClientError:
        return None


async def test_run_serves_metrics_and_stops_cleanly_on_sigterm(
    make_sim: SimFactory, tmp_path: Path
) -> None:
    sim = await make_sim(fixture=FULL_V1)
    port = free_port()
    config = tmp_path / "gridwatch.yml"
    config.write_text(
        f"exporter: {{listen_address: 127.0.0.1, port: {port}}}\n"
        "meters:\n"
        f"  - {{name: home, host: 127.0.0.1, api: v1, http_port: {sim.http_port}, interval: 1s}}\n"
    )
    proc = await gridwatch("run", "-c", str(config))
    try:

        async def has_power() -> bool:
            text = await fetch(f"http://127.0.0.1:{port}/metrics")
            return text is not None and "gridwatch_p1_power_watts" in text

        await wait_until(has_power, what="metrics from `gridwatch run`")
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert proc.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert "source homewizard/home is up" in log
    assert "shutting down" in log
    assert "Traceback" not in log


async def test_run_with_invalid_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.yml"
    config.write_text("meters:\n  - name: home\n    host: h\n    fuse_amperes: 0\n")
    proc = await gridwatch("run", "-c", str(config))
    _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert "meters[0].fuse_amperes" in stderr.decode()


@contextlib.asynccontextmanager
async def running_demo(*args: str) -> AsyncIterator[str]:
    """`gridwatch demo` until its banner; on exit Ctrl-C must stop it cleanly (exit 0)."""
    async with one_demo_at_a_time():
        proc = await gridwatch("demo", *args)
        try:
            yield await read_until(proc, "Press Ctrl-C")
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 30)
            assert proc.returncode == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_demo_shows_per_phase_data() -> None:
    port = free_port()
    async with running_demo("--no-prometheus", "--port", str(port)) as banner:
        assert f"http://127.0.0.1:{port}/metrics" in banner

        async def per_phase() -> bool:
            text = await fetch(f"http://127.0.0.1:{port}/metrics")
            if text is None:
                return False
            s = parse_exposition(text)
            return all(
                value(s, "gridwatch_p1_phase_current_amperes", meter="home", phase=p) is not None
                for p in ("l1", "l2", "l3")
            )

        await wait_until(per_phase, what="per-phase data in the demo")
        s = parse_exposition(await fetch(f"http://127.0.0.1:{port}/metrics") or "")
        assert "gridwatch_p1_phase_imbalance_amperes" in names(s)
        assert value(s, "gridwatch_source_up", source="homewizard", device="home") == 1


async def test_pair_homewizard_walks_through_the_button_press(
    make_sim: SimFactory, tmp_path: Path
) -> None:
    sim = await make_sim()
    token_file = tmp_path / "secrets" / "hw.token"
    proc = await pair(sim, token_file, wait=30)
    output = await read_until(proc, "Press the button")
    sim.press_button()
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "Paired" in out.decode()
    token = token_file.read_text().strip()
    assert len(token) == 32 and token != sim.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token not in out.decode() + output  # the token goes to the file, not the terminal

    # The new token works against the device.
    ctx = __import__(
        "gridwatch.sources.homewizard.tls", fromlist=["client_context"]
    ).client_context(sim.ca_file)
    headers = {"Authorization": f"Bearer {token}", "X-Api-Version": "2"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{sim.https_url}/api/measurement",
            headers=headers,
            ssl=ctx,
            server_hostname=sim.identifier,
        ) as response,
    ):
        assert response.status == 200


@pytest.mark.parametrize("product", ["HWE-P1", *sorted(PRODUCTS)])
async def test_pair_homewizard_tells_where_each_device_type_goes(
    product: str, make_sim: SimFactory, tmp_path: Path
) -> None:
    """Any HomeWizard device pairs the same way; its product type (GET /api) picks the section."""
    async with contextlib.AsyncExitStack() as stack:
        if product == "HWE-P1":
            sim: HomeWizardPeer = await make_sim()
        else:
            device = DeviceSimulator(DeviceOptions(product_type=product))
            sim = await stack.enter_async_context(device)
        sim.press_button()  # beforehand: the button walk-through is the test above
        proc = await pair(sim, tmp_path / "hw.token", wait=30)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    token = (tmp_path / "hw.token").read_text().strip()
    assert len(token) == 32 and token not in text
    if product == "HWE-P1":
        assert "under meters:" in text and "product_type" not in text
    else:
        assert "under homewizard_devices:" in text
        assert f"product_type: {product}" in text


async def test_pair_homewizard_replaces_a_symlinked_token_file_never_writes_through_it(
    make_sim: SimFactory, tmp_path: Path
) -> None:
    """Issue 15, fault 8: a symlink at --token-file was followed and its target overwritten."""
    sim = await make_sim()
    precious = tmp_path / "precious.conf"
    precious.write_text("do not touch\n")
    token_file = tmp_path / "hw.token"
    token_file.symlink_to(precious)
    proc = await pair(sim, token_file, wait=30)
    await read_until(proc, "Press the button")
    sim.press_button()
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert precious.read_text() == "do not touch\n"
    assert not token_file.is_symlink()
    assert len(token_file.read_text().strip()) == 32
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert list(tmp_path.glob("*.tmp")) == []  # noqa: ASYNC240


async def test_pair_homewizard_gives_up_without_button(
    make_sim: SimFactory, tmp_path: Path
) -> None:
    sim = await make_sim()
    proc = await pair(sim, tmp_path / "t", wait=1)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert "not pressed" in err.decode()
    assert not (tmp_path / "t").exists()


def need_binary(name: str) -> str:
    """Path of a system binary; in CI its absence is a failure, locally a skip."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed; `make test` should have installed it")
        pytest.skip(f"{name} not installed (sudo apt-get install prometheus)")
    return path


async def test_demo_starts_prometheus_which_scrapes_gridwatch() -> None:
    need_binary("prometheus")
    async with running_demo("--port", str(free_port())) as banner:
        prom = next(
            w
            for line in banner.splitlines()
            if "prometheus" in line
            for w in line.split()
            if w.startswith("http://")
        )

        async def scraped() -> bool:
            text = await fetch(f"{prom}api/v1/query?query=gridwatch_p1_phase_current_amperes")
            return text is not None and '"phase":"l3"' in text

        await wait_until(scraped, timeout=60, what="Prometheus to hold gridwatch's per-phase data")


def banner_url(banner: str, name: str) -> str:
    line = next(line for line in banner.splitlines() if line.strip().startswith(name))
    return next(w for w in line.split() if w.startswith("http://"))


async def test_demo_runs_the_receiver_with_a_chat_and_wires_alertmanager() -> None:
    need_binary("prometheus")
    need_binary("prometheus-alertmanager")
    pytest.importorskip("tuyamock", reason="tuyamock (dev dependency) not installed")
    async with running_demo("--port", str(free_port())) as banner:
        # The demo's Energy Socket "heater" is switched beside the Tuya plugs, not as one.
        assert "tuya plugs   boiler, washer" in banner
        assert "sockets      heater" in banner
        chat = banner_url(banner, "telegram")
        prom = banner_url(banner, "prometheus")
        receiver = banner_url(banner, "receiver")

        # A person types /status in the simulated chat; the bot answers with the plugs' state.
        async with aiohttp.ClientSession() as session:
            async with session.post(chat + "say", data={"text": "/status"}) as response:
                assert response.status == 200  # redirected back to the chat

            async def answered() -> bool:
                page = await fetch(chat)
                return page is not None and "boiler" in page and "/status" in page

            await wait_until(answered, timeout=30, what="the bot's answer in the chat window")

        # Prometheus sends alerts to the demo's Alertmanager, which posts to the receiver.
        async def wired() -> bool:
            text = await fetch(f"{prom}api/v1/alertmanagers")
            return text is not None and '"activeAlertmanagers":[{' in text

        await wait_until(wired, timeout=30, what="Prometheus to know the Alertmanager")
        health = await fetch(receiver.removesuffix("/alertmanager") + "/healthz")
        assert health is not None
