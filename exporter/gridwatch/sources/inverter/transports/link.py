"""The interface of an ASCII link, and reading one reply up to its CR from a file descriptor."""

from __future__ import annotations

import asyncio
import contextlib
import os
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
