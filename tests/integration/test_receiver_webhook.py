"""The receiver over loopback as Alertmanager sees it: auth, limits, junk, duplicates, restart."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gridwatch.config import parse_config
from gridwatch.receiver.app import Receiver
from gridwatch.receiver.ports import DeliveryError
from gridwatch.sim.polling import wait_until
from tests.helpers import load_json, parse_exposition, value
from tests.receiver_fakes import (
    AM_FIXTURES,
    TOKEN,
    RecordingNotifier,
    RecordingPlugs,
    am_payload,
    griddown,
)

pytestmark = pytest.mark.integration

CAPTURED_HEADERS = load_json(AM_FIXTURES / "am0.25_webhook_v4_firing_truncated.headers.json")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Client:
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def post(
        self, body: bytes | dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **AUTH} if headers is None else headers
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.receiver.url + "/alertmanager", data=data, headers=sent) as resp,
        ):
            return resp.status, await resp.json(content_type=None)

    async def get(self, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.receiver.url + path) as resp,
        ):
            return resp.status, await resp.text()

    async def metric(self, name: str, **labels: str) -> float | None:
        status, text = await self.get("/metrics")
        assert status == 200
        return value(parse_exposition(text), name, **labels)


Start = Callable[..., Awaitable[Client]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    running: list[Receiver] = []

    async def start(
        notifier: RecordingNotifier | None = None,
        plugs: RecordingPlugs | None = None,
        clock: Callable[[], float] = time.time,
        **settings: Any,
    ) -> Client:
        config = parse_config(
            {
                "site": {"data_dir": str(tmp_path / "data")},
                "receiver": {
                    "listen_address": "127.0.0.1",
                    "port": 0,
                    "token": TOKEN,
                    "retry_initial": "50ms",
                    **settings,
                },
            }
        )
        receiver = Receiver(config, notifier=notifier, plugs=plugs, clock=clock)
        await receiver.start()
        running.append(receiver)
        return Client(receiver)

    yield start
    for receiver in running:
        await receiver.stop()


async def test_a_captured_post_is_accepted_and_delivered(start: Start) -> None:
    notifier = RecordingNotifier()
    gw = await start(notifier, RecordingPlugs(stagger=0.0))
    body = (AM_FIXTURES / "am0.25_webhook_v4_firing_truncated.json").read_bytes()
    # Alertmanager 0.25's own headers, as captured (Host and Content-Length are aiohttp's).
    headers = {k: v for k, v in CAPTURED_HEADERS.items() if k not in {"Host", "Content-Length"}}
    status, reply = await gw.post(body, headers)
    assert (status, reply["new_alerts"], reply["duplicates"]) == (200, 2, 0)
    await wait_until(lambda: _true(notifier.delivered), what="delivery")
    [(notification, plugs)] = notifier.delivered
    assert [a.labels["instance"] for a in notification.alerts] == ["inv0", "inv1"]
    assert notification.truncated_alerts == 1 and plugs == []
    assert await gw.metric("gridwatch_receiver_webhook_requests_total", code="200") == 1
    assert await gw.metric("gridwatch_receiver_alerts_accepted_total", status="firing") == 2
    assert await gw.metric("gridwatch_receiver_deliveries_total", outcome="delivered") == 1


async def _true(items: list[Any]) -> bool:
    return bool(items)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer"],
)
async def test_without_the_right_token_401_and_nothing_stored(
    start: Start, authorization: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = RecordingNotifier()
    gw = await start(notifier)
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    status, reply = await gw.post(griddown(), headers)
    assert status == 401 and "token" in reply["error"]
    assert gw.receiver.outbox.counts["pending"] == 0 and notifier.attempts == []
    assert await gw.metric("gridwatch_receiver_webhook_requests_total", code="401") == 1
    assert await gw.metric("gridwatch_receiver_webhook_rejected_total", reason="unauthorized") == 1
    _, metrics = await gw.get("/metrics")
    assert TOKEN not in metrics and TOKEN not in caplog.text


async def test_401_names_the_scheme(start: Start) -> None:
    gw = await start()
    async with (
        aiohttp.ClientSession() as session,
        session.post(gw.receiver.url + "/alertmanager", json=griddown()) as resp,
    ):
        assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "reason", "says"),
    [
        (b"{not json", "invalid_json", "not JSON"),
        (b"\xff\xfe", "invalid_json", "not JSON"),
        (b"[" * 100_000, "invalid_json", "not JSON"),
        (b'{"hello": "world"}', "invalid_payload", "version"),
        (json.dumps({**griddown(), "version": "3"}).encode(), "invalid_payload", "version"),
        (json.dumps({**griddown(), "alerts": []}).encode(), "invalid_payload", "alerts"),
    ],
    ids=["broken", "binary", "deep", "other-json", "version-3", "no-alerts"],
)
async def test_junk_is_400_counted_and_logged_once(
    start: Start, body: bytes, reason: str, says: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "gridwatch.receiver")
    gw = await start(max_body_bytes=1_048_576)
    for _ in range(3):  # a sender retrying every flush is logged once
        status, reply = await gw.post(body)
        assert status == 400 and says in reply["error"]
    assert await gw.metric("gridwatch_receiver_webhook_rejected_total", reason=reason) == 3
    assert await gw.metric("gridwatch_receiver_webhook_requests_total", code="400") == 3
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert [r.levelno for r in refused] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert gw.receiver.outbox.counts["pending"] == 0


async def test_not_json_content_is_415(start: Start) -> None:
    gw = await start()
    status, _ = await gw.post(
        json.dumps(griddown()).encode(), {"Content-Type": "text/plain", **AUTH}
    )
    assert status == 415
    assert await gw.metric("gridwatch_receiver_webhook_rejected_total", reason="content_type") == 1


async def test_bodies_over_the_limit_are_413_with_or_without_a_length(start: Start) -> None:
    gw = await start(max_body_bytes=2048)
    big = griddown()
    big["commonAnnotations"]["description"] = "x" * 3000
    data = json.dumps(big).encode()
    status, reply = await gw.post(data)
    assert status == 413 and "2048" in reply["error"]

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to check up front
        for start_at in range(0, len(data), 500):
            yield data[start_at : start_at + 500]

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            gw.receiver.url + "/alertmanager",
            data=chunks(),
            headers={"Content-Type": "application/json", **AUTH},
        ) as resp,
    ):
        assert resp.status == 413
    assert await gw.metric("gridwatch_receiver_webhook_rejected_total", reason="too_large") == 2
    assert gw.receiver.outbox.counts["pending"] == 0
    # Just under the limit is fine.
    assert (await gw.post(griddown()))[0] == 200


async def test_duplicates_are_acknowledged_but_done_once(start: Start) -> None:
    notifier, plugs = RecordingNotifier(), RecordingPlugs(stagger=0.0)
    gw = await start(notifier, plugs)
    for _ in range(3):  # Alertmanager's retries, repeat_interval, an HA peer
        assert (await gw.post(griddown()))[0] == 200
    status, reply = await gw.post(griddown())
    assert (status, reply["job"], reply["duplicates"]) == (200, None, 1)
    await wait_until(lambda: _true(notifier.delivered), what="delivery")
    assert (await gw.post(griddown("resolved")))[1]["new_alerts"] == 1
    await wait_until(lambda: _len_is(notifier.delivered, 2), what="restore delivered")
    assert [n.status for n, _ in notifier.delivered] == ["firing", "resolved"]
    assert plugs.switched == [(p, False) for p in plugs.group] + [(p, True) for p in plugs.group]
    assert await gw.metric("gridwatch_receiver_duplicates_dropped_total") == 3
    assert await gw.metric("gridwatch_receiver_plug_switches_total", outcome="ok") == 6


async def _len_is(items: list[Any], n: int) -> bool:
    return len(items) == n


async def test_restart_loses_nothing_and_delivers_once(start: Start) -> None:
    down = RecordingNotifier(failures=[DeliveryError("no route", retryable=True)] * 1000)
    gw = await start(down, RecordingPlugs(stagger=0.0), retry_initial="60s", retry_max="60s")
    assert (await gw.post(griddown()))[0] == 200
    await wait_until(lambda: _true(down.attempts), what="first attempt")
    assert await gw.metric("gridwatch_receiver_outbox_jobs", state="pending") == 1
    assert await gw.metric("gridwatch_receiver_oldest_pending_job_timestamp_seconds") is not None
    await gw.receiver.stop()

    up, plugs = RecordingNotifier(), RecordingPlugs(stagger=0.0)
    # A new process; its clock runs two minutes on, past the stored next attempt (~60 s).
    gw2 = await start(up, plugs, clock=lambda: time.time() + 120)
    assert (await gw2.post(griddown()))[1]["duplicates"] == 1  # still known after the restart
    await wait_until(lambda: _true(up.delivered), what="delivery after restart")
    assert plugs.switched == []  # the plugs were switched before the restart
    assert len(up.delivered) == 1 and len(down.delivered) == 0
    assert await gw2.metric("gridwatch_receiver_outbox_jobs", state="done") == 1


async def test_503_while_the_outbox_cannot_be_written_then_200(start: Start) -> None:
    gw = await start()
    conn = gw.receiver.db.connection
    conn.execute(
        "CREATE TRIGGER full BEFORE INSERT ON receiver_dedup "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    status, _ = await gw.post(griddown())
    assert status == 503  # Alertmanager retries 5xx; a 4xx would be re-sent forever
    assert (await gw.get("/healthz"))[0] == 503
    assert await gw.metric("gridwatch_receiver_outbox_write_errors_total") == 1
    conn.execute("DROP TRIGGER full")
    assert (await gw.post(griddown()))[1]["new_alerts"] == 1  # the retry is not a duplicate
    status, health = await gw.get("/healthz")
    assert status == 200 and json.loads(health)["status"] == "ok"


async def test_healthz_and_metrics_describe_the_receiver(start: Start) -> None:
    gw = await start()
    status, health = await gw.get("/healthz")
    assert status == 200
    assert json.loads(health)["outbox"] == {"pending": 0, "done": 0, "dead": 0}
    _, text = await gw.get("/metrics")
    samples = parse_exposition(text)
    for code in ("200", "400", "401", "413", "415", "503"):
        assert value(samples, "gridwatch_receiver_webhook_requests_total", code=code) == 0
    assert value(samples, "gridwatch_receiver_delivery_retries_total") == 0
    assert value(samples, "gridwatch_receiver_deliveries_total", outcome="dead_lettered") == 0
    assert "gridwatch_receiver_oldest_pending_job_timestamp_seconds" not in text
    assert "# HELP gridwatch_receiver_outbox_jobs " in text


async def test_dead_letters_are_visible_in_metrics(start: Start) -> None:
    notifier = RecordingNotifier(failures=[DeliveryError("400 chat not found", retryable=False)])
    gw = await start(notifier)
    await gw.post(am_payload("am0.25_webhook_v4_resolved.json"))
    await wait_until(lambda: _true(notifier.attempts), what="attempt")

    async def dead() -> bool:
        return await gw.metric("gridwatch_receiver_outbox_jobs", state="dead") == 1

    await wait_until(dead, what="dead letter")
    assert await gw.metric("gridwatch_receiver_deliveries_total", outcome="dead_lettered") == 1
