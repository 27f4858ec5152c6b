"""A simulator that is a server on loopback: ``start()`` and ``close()``, or ``async with``."""

from __future__ import annotations

from types import TracebackType
from typing import Self


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
