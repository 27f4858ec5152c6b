"""The alert path end to end with the real binaries: the simulated inverter loses the grid, the
exporter debounces it, the real Prometheus evaluates the shipped GridDown rule, the real
Alertmanager routes it by the shipped alertmanager.yml to the receiver, which switches tuyamock
plugs off and sends a Ukrainian message to the fake Bot API; the grid returns and everything is
undone, plugs staggered. A single bad poll does nothing at all.

Without the Prometheus or Alertmanager binaries the tests skip, except under CI=true.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from gridwatch.binaries import alertmanager_binary, prometheus_binary
from gridwatch.sim.polling import wait_until
from tests.helpers import missing_tool

pytestmark = [pytest.mark.clock, pytest.mark.integration, pytest.mark.timeout(240)]


def _need_binaries() -> None:
    missing = [
        name
        for name, found in (
            ("prometheus", prometheus_binary()),
            ("prometheus-alertmanager", alertmanager_binary()),
        )
        if found is None
    ]
    if not missing:
        return
    missing_tool(", ".join(missing), " ".join(missing))


_need_binaries()
pytest.importorskip("tuyamock", reason="tuyamock (dev dependency) not installed")

from gridwatch.sim.alert_stack import CHAT_ID, AlertStack  # noqa: E402 (after the skips)


async def wait_for(what: str, predicate: Callable[[], bool], timeout: float = 60.0) -> float:
    """Poll until ``predicate`` holds; returns when it did (monotonic). A hang guard only."""
    return await wait_until(predicate, what=what, timeout=timeout)


async def prom_query(stack: AlertStack, expr: str) -> list[dict[str, object]]:
    assert stack.prometheus is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{stack.prometheus.url}/api/v1/query", params={"query": expr}) as response,
    ):
        body = await response.json()
    assert body["status"] == "success", body
    result: list[dict[str, object]] = body["data"]["result"]
    return result


async def wait_prom(stack: AlertStack, what: str, expr: str, timeout: float = 60.0) -> None:
    async def answered() -> bool:
        return bool(await prom_query(stack, expr))

    await wait_until(answered, what=f"{what} ({expr})", timeout=timeout, every=0.2)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[AlertStack]:
    async with AlertStack(tmp_path) as running:
        # Grid up is known to Prometheus before anything is tested.
        await wait_prom(running, "grid up scraped", "gridwatch_grid_up == 1")
        yield running


async def test_grid_loss_sheds_load_and_return_restores_it_staggered(stack: AlertStack) -> None:
    assert stack.plug_states() == {"boiler": True, "heater": True, "washer": True}

    stack.grid(False)
    await wait_for(
        "every heavy plug off",
        lambda: all(on is False for on in stack.plug_states().values()),
    )
    await wait_for("the grid-lost message", lambda: len(stack.messages()) >= 1)
    lost = stack.messages()[0]
    # Ukrainian, as configured, and it reports each plug's result.
    assert "мереж" in lost.lower() or "світл" in lost.lower(), lost
    for plug in ("boiler", "heater", "washer"):
        assert plug in lost, lost

    stack.grid(True)
    await wait_for(
        "every heavy plug back on",
        lambda: all(on is True for on in stack.plug_states().values()),
    )
    await wait_for("the grid-restored message", lambda: len(stack.messages()) >= 2)
    restored = stack.messages()[1]
    assert restored != lost
    for plug in ("boiler", "heater", "washer"):
        assert plug in restored, restored

    # Staggered: the plugs did not come back at one instant, and in the configured order.
    assert stack.receiver is not None
    assert len(stack.messages()) == 2, stack.messages()


async def test_plugs_come_back_one_by_one(stack: AlertStack) -> None:
    stack.grid(False)
    await wait_for("plugs off", lambda: all(v is False for v in stack.plug_states().values()))
    await wait_for("message sent", lambda: len(stack.messages()) >= 1)

    stack.grid(True)
    turned_on: dict[str, float] = {}

    def record() -> bool:
        now = time.monotonic()
        for name, on in stack.plug_states().items():
            if on and name not in turned_on:
                turned_on[name] = now
        return len(turned_on) == 3

    await wait_for("all plugs on", record)
    order = sorted(turned_on, key=turned_on.__getitem__)
    assert order == ["boiler", "heater", "washer"]
    gaps = [turned_on[b] - turned_on[a] for a, b in itertools.pairwise(order)]
    # 0.3 s stagger configured; observed gaps include it (never all at the same instant).
    assert all(gap >= 0.2 for gap in gaps), gaps


async def test_a_single_bad_poll_does_nothing(stack: AlertStack) -> None:
    assert stack.exporter is not None
    # One poll's worth of no mains: shorter than the debounce of two consecutive polls.
    stack.grid(False)
    await asyncio.sleep(0.3)
    stack.grid(True)
    # Long enough for a GridDown to have fired: several polls, scrapes and evaluations.
    await asyncio.sleep(6)
    assert stack.plug_states() == {"boiler": True, "heater": True, "washer": True}
    assert stack.messages() == []
    assert await prom_query(stack, 'ALERTS{alertname="GridDown"}') == []
    assert await prom_query(stack, "gridwatch_grid_up == 1")


@pytest.fixture
async def bot_stack(tmp_path: Path) -> AsyncIterator[AlertStack]:
    async with AlertStack(tmp_path, commands=True) as running:
        await wait_prom(running, "grid up scraped", "gridwatch_grid_up == 1")
        yield running


async def ask(stack: AlertStack, text: str, chat: int = CHAT_ID) -> str:
    api = stack.bot_api
    before = len(api.sent)
    api.user_message(chat, text)
    await wait_for(f"an answer to {text}", lambda: len(api.sent) > before)
    return api.sent[before].text


async def test_the_bot_answers_from_prometheus_and_the_real_plugs(bot_stack: AlertStack) -> None:
    stack = bot_stack
    status = await ask(stack, "/status")
    assert "boiler" in status and "heater" in status, status

    answered = len(stack.messages())  # the answer to /status is in the chat already
    stack.grid(False)
    await wait_for("plugs off", lambda: all(v is False for v in stack.plug_states().values()))
    # Wait for the alert's own message, so the next message in the chat is the bot's answer.
    await wait_for("the grid-lost message", lambda: len(stack.messages()) > answered)
    plugs = await ask(stack, "/plugs")
    # The plugs' real state, read back from the tuyamock devices, not what was last commanded.
    for name in ("boiler", "heater", "washer"):
        line = next(line for line in plugs.splitlines() if name in line)
        assert "❌ OFF" in line, plugs  # the earlier bot's wording, kept for its users

    # A chat that is not configured gets no answer at all.
    sent = len(stack.bot_api.sent)
    stack.bot_api.user_message(999, "/status")
    await asyncio.sleep(2)
    assert len(stack.bot_api.sent) == sent
    assert 999 not in stack.bot_api.chats()
