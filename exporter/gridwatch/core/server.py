"""HTTP server: /metrics (Prometheus text or OpenMetrics), / (status page), /healthz."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.exposition import choose_encoder

from gridwatch import __version__
from gridwatch.core.collector import GridwatchCollector
from gridwatch.core.health import SourceHealth
from gridwatch.core.state import StateStore

STORE_KEY = web.AppKey("store", StateStore)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)


def make_registry(collector: GridwatchCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    ProcessCollector(registry=registry)  # RSS, CPU and fds of the exporter itself
    return registry


async def metrics(request: web.Request) -> web.Response:
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    body = encoder(request.app[REGISTRY_KEY])
    response = web.Response(body=body, headers={"Content-Type": content_type})
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression()
    return response


def _state(health: SourceHealth) -> str:
    if health.up is None:
        return "waiting"
    return "up" if health.up else "down"


def _when(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{stamp} ({now - ts:.0f}s ago)"


async def index(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    now = store.now()
    rows = []
    for h in sorted(store.health(), key=lambda h: (h.key.source, h.key.device)):
        state = _state(h)
        error = "—"
        if h.last_error_reason:
            error = (
                f"{h.last_error_reason}: {h.last_error_message} at {_when(h.last_error_at, now)}"
            )
        push = {None: "—", True: "connected", False: "disconnected"}[h.push_connected]
        cells = [h.key.source, h.key.device, state, _when(h.last_success, now), error, push]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        rows.append(f'<tr class="{state}">{tds}</tr>')
    table = "\n".join(rows) or '<tr><td colspan="6">No sources configured.</td></tr>'
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gridwatch</title>
<meta http-equiv="refresh" content="10">
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .3em .8em; border-bottom: 1px solid #ddd;
text-align: left; }} tr.up td:nth-child(3) {{ color: #1a7f37; font-weight: bold; }}
tr.down td:nth-child(3) {{ color: #cf222e; font-weight: bold; }}
tr.waiting td:nth-child(3) {{ color: #9a6700; }}
</style></head><body>
<h1>gridwatch {html.escape(__version__)}</h1>
<p><a href="/live">live page</a> · <a href="/metrics">/metrics</a> ·
<a href="/healthz">/healthz</a></p>
<table><tr><th>Source</th><th>Device</th><th>State</th><th>Last success</th>
<th>Last error</th><th>Push</th></tr>
{table}
</table></body></html>
"""
    return web.Response(text=page, content_type="text/html")


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    sources = {f"{h.key.source}/{h.key.device}": _state(h) for h in store.health()}
    return web.json_response({"status": "ok", "version": __version__, "sources": sources})


def make_app(
    store: StateStore, registry: CollectorRegistry, routes: Sequence[web.RouteDef] = ()
) -> web.Application:
    app = web.Application()
    app[STORE_KEY] = store
    app[REGISTRY_KEY] = registry
    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_routes(routes)  # the components' JSON API, e.g. /api/v1/prices
    return app
