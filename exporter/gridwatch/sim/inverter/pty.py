"""A pseudo-terminal pair standing in for a cable: gridwatch opens ``path`` (``/dev/pts/N``) as
it opens ``/dev/ttyUSB0`` or ``/dev/hidraw0``; the simulator reads and writes the other end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from typing import Self


class PtyPeer:
    def __init__(self) -> None:
        self.path = ""
        self._master: int | None = None
        self._slave: int | None = None
        self._buffer = bytearray()  # bytes received and not yet taken as a request

    async def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.path = os.ttyname(slave)
        os.set_blocking(master, False)
        asyncio.get_running_loop().add_reader(master, self._readable)

    async def stop(self) -> None:
        if self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def _readable(self) -> None:
        assert self._master is not None
        try:
            self._buffer += os.read(self._master, 512)
        except (BlockingIOError, OSError):
            return
        self._received()

    def _received(self) -> None:
        """Take what requests ``_buffer`` holds and answer them."""
        raise NotImplementedError

    def _write(self, data: bytes) -> None:
        if self._master is not None:
            with contextlib.suppress(OSError):
                os.write(self._master, data)
