"""The HomeWizard source against the simulator over loopback: v1, v2, TLS, push, failures."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from aiohttp import web

from gridwatch.sim.homewizard.certs import generate_ca
from gridwatch.sim.polling import wait_until
from gridwatch.sim.service import RouteServer
from tests.helpers import names, value
from tests.integration.conftest import (
    FULL_V1,
    SimFactory,
    StartExporter,
    errors,
    v1_meter,
    v2_meter,
)

pytestmark = pytest.mark.integration
UP = "gridwatch_source_up"
PUSH = "gridwatch_source_push_connected"
HW = {"source": "homewizard", "device": "home"}


async def test_v1_poll_exports_the_meter_values(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(fixture=FULL_V1)
    gw = await start_exporter(v1_meter(sim, interval="1s"))

    async def has_data() -> bool:
        return value(await gw.scrape(), "gridwatch_p1_power_watts", meter="home") is not None

    await wait_until(has_data, what="first v1 poll")
    s = await gw.scrape()
    assert value(s, "gridwatch_p1_power_watts", meter="home") == -1250
    assert value(s, "gridwatch_p1_phase_current_amperes", meter="home", phase="l1") == -8.894
    assert value(s, "gridwatch_p1_voltage_sags_total", meter="home", phase="l1") == 3
    info = {labels for n, labels in s if n == "gridwatch_p1_meter_info"}
    assert ("api", "v1") in next(iter(info))
    assert value(s, UP, **HW) == 1
    assert value(s, "gridwatch_source_push_connected", **HW) is None  # v1 has no push


async def test_v2_poll_with_token_checks_certificate_name(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(fixture=FULL_V1)
    gw = await start_exporter(v2_meter(sim, push=False, interval="1s"))

    async def has_data() -> bool:
        return value(await gw.scrape(), "gridwatch_p1_power_watts", meter="home") is not None

    await wait_until(has_data, what="first v2 poll")
    s = await gw.scrape()
    assert value(s, "gridwatch_p1_phase_voltage_volts", meter="home", phase="l2") == 231.9
    assert value(s, "gridwatch_p1_energy_joules_total", meter="home", direction="export") == (
        pytest.approx(1500.25 * 3.6e6)
    )
    source = gw.exporter.sources[0]
    # The serial was learned from GET /api; later requests verify appliance/p1dongle/<serial>.
    assert source.device is not None and source.device.serial == "5c2fafaabbcc"  # type: ignore[attr-defined]


async def test_wrong_token_is_unauthorized_and_logged_once(
    make_sim: SimFactory, start_exporter: StartExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gridwatch")
    sim = await make_sim()
    wrong = "0" * 32
    gw = await start_exporter(v2_meter(sim, token=wrong, interval="0.2s"))

    s = await gw.wait_for("repeated unauthorized errors", lambda s: errors(s, "unauthorized") >= 5)
    assert value(s, UP, **HW) == 0
    assert not {n for n in names(s) if n.startswith("gridwatch_p1_") and "power" in n}
    down_lines = [r for r in caplog.records if "is down" in r.getMessage()]
    assert len(down_lines) == 1, [r.getMessage() for r in down_lines]
    assert "unauthorized" in down_lines[0].getMessage()
    # The token is a secret: never in logs or metrics.
    assert wrong not in caplog.text and wrong not in await gw.text()
    assert sim.token not in await gw.text()


async def test_certificate_from_another_ca_is_a_tls_error(
    make_sim: SimFactory, start_exporter: StartExporter, tmp_path: object
) -> None:
    sim = await make_sim()
    other = generate_ca("some other CA").write(tmp_path / "other-ca.pem")  # type: ignore[operator]
    gw = await start_exporter(v2_meter(sim, ca_file=str(other), interval="0.3s"))

    await gw.wait_for("tls error", lambda s: errors(s, "tls") >= 1)
    s = await gw.scrape()
    assert value(s, UP, **HW) == 0
    assert "gridwatch_p1_power_watts" not in names(s)


async def test_wrong_serial_fails_the_certificate_name_check(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim()
    gw = await start_exporter(v2_meter(sim, serial="aabbccddeeff", interval="0.3s"))

    await gw.wait_for("name mismatch", lambda s: errors(s, "tls") >= 1)


async def test_every_pushed_update_is_counted(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(push_interval=1.0)
    gw = await start_exporter(v2_meter(sim, interval="10s"))

    await gw.wait_for("push connected", lambda s: value(s, PUSH, **HW) == 1)

    async def counts() -> tuple[int, float]:
        # Sample right after a push: the next one is a full second away.
        pushed = sim.measurements_pushed
        while sim.measurements_pushed == pushed:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        s = await gw.scrape()
        return sim.measurements_pushed, value(s, "gridwatch_source_updates_total", **HW) or 0

    pushed_before, updates_before = await counts()
    for _ in range(5):
        await counts()
    pushed_after, updates_after = await counts()
    assert pushed_after - pushed_before >= 6
    assert updates_after - updates_before == pushed_after - pushed_before


async def test_push_reconnects_after_simulator_restart(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(push_interval=0.2)
    gw = await start_exporter(v2_meter(sim, interval="1s"))

    async def push_state(expected: float) -> bool:
        return value(await gw.scrape(), "gridwatch_source_push_connected", **HW) == expected

    await wait_until(lambda: push_state(1), what="push connected")
    await sim.stop()
    await wait_until(lambda: push_state(0), what="push disconnected")
    await sim.start()
    await wait_until(lambda: push_state(1), what="push reconnected")
    pushed = sim.measurements_pushed

    async def pushing() -> bool:
        return sim.measurements_pushed > pushed + 2

    await wait_until(pushing, what="pushes after restart")


async def test_series_disappear_when_the_meter_is_gone_and_come_back(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(fixture=FULL_V1)
    gw = await start_exporter(v1_meter(sim, interval="0.3s", stale_after="1.5s", timeout="0.5s"))

    async def has_power() -> bool:
        return "gridwatch_p1_power_watts" in names(await gw.scrape())

    async def no_power() -> bool:
        return not await has_power()

    await wait_until(has_power, what="data")
    await sim.stop()
    await wait_until(no_power, what="series gone after staleness window")
    s = await gw.scrape()
    assert value(s, UP, **HW) == 0
    assert errors(s, "connection") >= 1
    assert value(s, "gridwatch_p1_fuse_amperes", meter="home") == 16  # config stays visible
    await sim.start()
    await wait_until(has_power, what="data back")
    assert value(await gw.scrape(), UP, **HW) == 1


@pytest.mark.parametrize(("mode", "reason"), [("garbage", "payload"), ("http500", "http_error")])
async def test_bad_replies_mark_down_and_other_meters_keep_working(
    make_sim: SimFactory, start_exporter: StartExporter, mode: str, reason: str
) -> None:
    good = await make_sim(fixture=FULL_V1)
    bad = await make_sim(fixture=FULL_V1)
    bad.set_broken(mode)
    gw = await start_exporter(
        v1_meter(good, name="good", interval="0.3s"), v1_meter(bad, name="bad", interval="0.3s")
    )

    s = await gw.wait_for(
        f"{reason} error on the bad meter",
        lambda s: (
            errors(s, reason, device="bad") >= 1
            and value(s, "gridwatch_p1_power_watts", meter="good") is not None
        ),
    )
    assert value(s, UP, source="homewizard", device="bad") == 0
    assert value(s, UP, source="homewizard", device="good") == 1
    assert value(s, "gridwatch_p1_power_watts", meter="bad") is None
    bad.set_broken(None)

    async def recovered() -> bool:
        return value(await gw.scrape(), UP, source="homewizard", device="bad") == 1

    await wait_until(recovered, what="recovery")


async def test_v1_disabled_is_reported_as_such(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(v1_enabled=False)
    gw = await start_exporter(v1_meter(sim, interval="0.3s"))

    await gw.wait_for("api_disabled", lambda s: errors(s, "api_disabled") >= 1)


async def test_unreachable_timeout(start_exporter: StartExporter) -> None:
    # A listening socket that never answers: the poll must time out, not hang.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        gw = await start_exporter(
            {
                "name": "home",
                "host": "127.0.0.1",
                "api": "v1",
                "http_port": port,
                "interval": "0.5s",
                "timeout": "0.3s",
            }
        )
        await gw.wait_for("timeout", lambda s: errors(s, "timeout") >= 1)
    finally:
        server.close()


async def test_garbage_on_the_push_stream_is_a_payload_error(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(push_interval=0.2)
    gw = await start_exporter(v2_meter(sim, interval="10s"))

    await gw.wait_for("push connected", lambda s: value(s, PUSH, **HW) == 1)
    sim.set_broken("garbage")

    await gw.wait_for("payload error from the push stream", lambda s: errors(s, "payload") >= 1)
    assert value(await gw.scrape(), UP, **HW) == 0
    sim.set_broken(None)
    await gw.wait_for(
        "up again over push", lambda s: value(s, UP, **HW) == value(s, PUSH, **HW) == 1
    )


def serve_body(body: bytes) -> RouteServer:
    """A misbehaving 'meter' that streams ``body`` in small chunks at /api/v1/data."""

    async def data(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for start in range(0, len(body), 4096):
            await response.write(body[start : start + 4096])
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    async def device(request: web.Request) -> web.Response:
        return web.json_response({"product_type": "HWE-P1"})

    return RouteServer([web.get("/api/v1/data", data), web.get("/api", device)])


@pytest.mark.parametrize(
    ("externals", "expect_power"),
    [(600, True), (5000, False)],  # ~75 kB read whole across chunks; ~600 kB refused
)
async def test_body_arriving_in_chunks_and_size_limit(
    start_exporter: StartExporter, externals: int, expect_power: bool
) -> None:
    entry = {"unique_id": "AB", "type": "gas_meter", "value": 1.0, "unit": "m3"}
    payload = {"active_power_w": 321, "external": [entry] * externals}
    async with serve_body(json.dumps(payload).encode()) as meter:
        gw = await start_exporter(
            {
                "name": "home",
                "host": "127.0.0.1",
                "api": "v1",
                "http_port": meter.port,
                "interval": "0.3s",
            }
        )

        async def settled() -> bool:
            s = await gw.scrape()
            return value(s, UP, **HW) is not None

        await wait_until(settled, what="first poll")
        s = await gw.scrape()
        if expect_power:
            assert value(s, "gridwatch_p1_power_watts", meter="home") == 321
        else:
            assert value(s, UP, **HW) == 0
            assert errors(s, "payload") >= 1
