"""HTTP side of the live page: the page, its script and style, a JSON snapshot, the event stream.

Everything is served by the exporter itself (no CDN, no external font): a phone on the home
Wi-Fi needs nothing from the internet. Updates are server-sent events (``/live/events``):
one long response per page, a snapshot per change, a comment every 15 s so proxies keep it open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import resources

from aiohttp import web

from gridwatch.live.hub import LiveHub

KEEPALIVE_SECONDS = 15.0
_STATIC = {"live.js": "text/javascript", "live.css": "text/css"}
_NO_STORE = {"Cache-Control": "no-store"}
# Only what the page itself needs: its own script, style and stream.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)


def _static(name: str) -> str:
    return resources.files("gridwatch.live").joinpath("static", name).read_text(encoding="utf-8")


def routes(hub: LiveHub, grafana_url: str | None, timezone: str) -> list[web.RouteDef]:
    page_template = _static("live.html")
    assets = {name: _static(name) for name in _STATIC}

    async def page(request: web.Request) -> web.Response:
        settings = {"grafana": grafana_url, "timezone": timezone, "initial": hub.current()}
        # Inline JSON: "</" cannot end the script element early.
        data = json.dumps(settings, separators=(",", ":")).replace("</", "<\\/")
        text = page_template.replace("{{SETTINGS}}", data)
        headers = {**_NO_STORE, "Content-Security-Policy": _CSP}
        return web.Response(text=text, content_type="text/html", headers=headers)

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in assets:
            raise web.HTTPNotFound()
        return web.Response(text=assets[name], content_type=_STATIC[name], headers=_NO_STORE)

    async def current(request: web.Request) -> web.Response:
        return web.json_response(hub.current(), headers=_NO_STORE)

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx in front: do not buffer the stream
            }
        )
        await response.prepare(request)
        queue = hub.subscribe()
        try:
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                await response.write(f"data: {data}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            hub.unsubscribe(queue)  # also when the exporter stops (cancelled)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    return [
        web.get("/live", page),
        web.get("/live/static/{name}", asset),
        web.get("/live/snapshot.json", current),
        web.get("/live/events", events),
    ]
