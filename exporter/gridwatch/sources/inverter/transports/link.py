"""The interface of an ASCII link, and the file-descriptor links (serial line, USB HID) built on
reading one reply up to its CR."""

from __future__ import annotations

import asyncio
import contextlib
import os
from abc import ABC, abstractmethod
from typing import Protocol

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols.voltronic import MAX_REPLY


class AsciiLink(Protocol):
    """Serial line, USB HID or the Eybond dongle; failures raise SourceError."""

    requests: int  # commands sent so far (the benchmark counts them)

    async def exchange(self, request: bytes, command: str) -> bytes:
        """Send one framed request; the reply up to and including its CR."""
        ...

    async def close(self) -> None: ...

    def describe(self) -> str: ...


async def read_reply(fd: int, timeout: float, what: str, *, strip_nul: bool = False) -> bytes:
    """Bytes from ``fd`` until the first CR; what follows the CR (HID padding) is dropped."""
    loop = asyncio.get_running_loop()
    got = bytearray()
    ready = asyncio.Event()
    loop.add_reader(fd, ready.set)
    try:
        async with asyncio.timeout(timeout):
            while b"\r" not in got:
                await ready.wait()
                ready.clear()
                try:
                    chunk = os.read(fd, 256)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    raise SourceError("disconnected", f"{what}: {exc.strerror}") from None
                if not chunk:
                    raise SourceError("disconnected", f"{what} closed")
                got += chunk.lstrip(b"\x00") if strip_nul and not got else chunk
                if len(got) > MAX_REPLY:
                    raise SourceError(
                        "protocol", f"{what}: {len(got)} bytes without a CR: {bytes(got[:24])!r}"
                    )
    except TimeoutError:
        seen = f"; got {bytes(got[:32])!r}" if got else " (nothing came back)"
        raise SourceError(
            "timeout", f"no complete reply from {what} within {timeout:g}s{seen}"
        ) from None
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(fd)
    return bytes(got[: got.index(b"\r") + 1])


def drain(fd: int) -> None:
    """Discard bytes left over from an earlier exchange (a late reply must not answer ours)."""
    with contextlib.suppress(BlockingIOError, OSError):
        while os.read(fd, 512):
            pass


class FdLink(ABC):
    """A device file opened once and kept: one exchange at a time, stale bytes drained before
    each request, the file closed (and opened again next time) when the device goes away."""

    strip_nul = False  # HID: replies come in reports padded with 0x00

    def __init__(self, device: str, timeout: float) -> None:
        self.device = device
        self.timeout = timeout
        self.requests = 0
        self._fd: int | None = None
        self._lock = asyncio.Lock()

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def _open_fd(self) -> int:
        """Open and set up the device; raise SourceError("connection", …) when it cannot."""

    async def _send(self, fd: int, request: bytes) -> None:
        os.write(fd, request)

    async def exchange(self, request: bytes, command: str) -> bytes:
        async with self._lock:
            if self._fd is None:
                self._fd = self._open_fd()
            fd = self._fd
            drain(fd)
            try:
                await self._send(fd, request)
            except OSError as exc:
                await self.close()
                raise SourceError("disconnected", f"{self.describe()}: {exc.strerror}") from None
            self.requests += 1
            try:
                return await read_reply(
                    fd, self.timeout, f"{self.describe()} ({command})", strip_nul=self.strip_nul
                )
            except SourceError as exc:
                if exc.reason == "disconnected":
                    await self.close()
                raise

    async def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
