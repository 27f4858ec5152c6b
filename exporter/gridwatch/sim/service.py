"""A simulator that is a server on loopback: ``start()`` and ``close()``, or ``async with``."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from aiohttp import web


class LoopbackService:
    """Subclasses implement ``start`` and ``close``; ``async with`` calls them."""

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class WebService(LoopbackService):
    """An aiohttp server on a loopback address; subclasses add their routes in ``routes``.

    Port 0 picks a free port; the real one is in ``port`` once started, and a restart after
    ``close`` (a peer that goes down and comes up) listens on that same port again.
    """

    peer = "the simulator"  # for the error message

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"{self.peer} only binds loopback addresses, not {host!r}")
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application()
        self.routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, reuse_address=True).start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


class RouteServer(WebService):
    """A one-off loopback server for the given routes: a misbehaving peer in a test."""

    def __init__(self, routes: Iterable[web.RouteDef], *, host: str = "127.0.0.1") -> None:
        super().__init__(host=host)
        self._routes = list(routes)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_routes(self._routes)
