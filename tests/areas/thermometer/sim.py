"""A thermometer on loopback, for the tests and the demo part."""

from __future__ import annotations

from aiohttp import web

from gridwatch.sim.service import WebService


class ThermometerSimulator(WebService):
    peer = "the thermometer simulator"

    def __init__(self, celsius: float = 21.5) -> None:
        super().__init__()
        self.celsius = celsius

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/temperature", self._temperature)

    async def _temperature(self, request: web.Request) -> web.Response:
        return web.json_response({"celsius": self.celsius})
