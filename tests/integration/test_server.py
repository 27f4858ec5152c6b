"""The exporter's HTTP endpoints: status page, health, content negotiation."""

from __future__ import annotations

import gzip

import aiohttp
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om

from gridwatch.sim.polling import wait_until
from tests.integration.conftest import FULL_V1, SimFactory, StartExporter, v1_meter

pytestmark = pytest.mark.integration


async def test_endpoints(make_sim: SimFactory, start_exporter: StartExporter) -> None:
    sim = await make_sim(fixture=FULL_V1)
    gw = await start_exporter(
        v1_meter(sim, interval="0.5s"),
        {"name": "nowhere", "host": "127.0.0.1", "api": "v1", "http_port": 9, "interval": "0.5s"},
    )

    async def both_tried() -> bool:
        _, body, _ = await gw.get("/healthz")
        return '"homewizard/home": "up"' in body and '"homewizard/nowhere": "down"' in body

    await wait_until(both_tried, what="both sources polled")

    status, page, headers = await gw.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert 'href="/metrics"' in page
    assert '<tr class="up"><td>homewizard</td><td>home</td><td>up</td>' in page
    assert '<tr class="down"><td>homewizard</td><td>nowhere</td><td>down</td>' in page
    assert "connection:" in page  # the last error is shown with its reason

    status, text, headers = await gw.get(
        "/metrics", Accept="application/openmetrics-text; version=1.0.0"
    )
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert text.endswith("# EOF\n")
    assert "gridwatch_p1_power_watts" in {f.name for f in parse_om(text)}

    status, text, headers = await gw.get("/metrics")
    assert headers["Content-Type"].startswith("text/plain")

    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.get(gw.exporter.url + "/metrics", headers={"Accept-Encoding": "gzip"}) as resp,
    ):
        assert resp.headers["Content-Encoding"] == "gzip"
        assert b"gridwatch_build_info" in gzip.decompress(await resp.read())
