"""A Voltronic inverter behind a transparent RS232-to-TCP bridge (Elfin EW11, USR-TCP232,
ser2net): the bridge passes raw bytes both ways and adds no framing, so the ASCII frames travel
over TCP exactly as on the cable.

The connection is kept between polls. A reply is read up to its CR, never by length. After a
timeout or a half reply the connection is dropped, so a late reply cannot answer the next
command; a bridge that closed the connection between polls is reconnected before the request.
"""

from __future__ import annotations

import asyncio
import contextlib

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols.voltronic import MAX_REPLY

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _HungUpError(Exception):
    """The connection was closed before any of the reply came: ``error`` if it stays so."""

    def __init__(self, error: SourceError) -> None:
        super().__init__(str(error))
        self.error = error


class TcpLink:
    def __init__(
        self, host: str, port: int, timeout: float = 5.0, connect_timeout: float = 5.0
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.requests = 0
        self.connections = 0  # connections opened so far (tests and the benchmark count them)
        self._conn: Stream | None = None
        self._lock = asyncio.Lock()

    def describe(self) -> str:
        return f"TCP bridge {self.host}:{self.port}"

    async def _connect(self) -> Stream:
        try:
            async with asyncio.timeout(self.connect_timeout):
                conn = await asyncio.open_connection(self.host, self.port, limit=MAX_REPLY)
        except TimeoutError:
            raise SourceError(
                "timeout", f"{self.describe()}: no connection within {self.connect_timeout:g}s"
            ) from None
        except OSError as exc:
            raise SourceError(
                "connection", f"cannot connect to {self.describe()}: {exc.strerror or exc}"
            ) from None
        self.connections += 1
        return conn

    async def _ready(self) -> Stream:
        """The open connection with nothing left unread, or a new one if the bridge hung up."""
        if self._conn is not None:
            reader, _ = self._conn
            closed = False
            try:
                async with asyncio.timeout(0):  # only what is already buffered, never waits
                    while not closed:
                        # Stale bytes (a reply that came after its timeout) are dropped; b""
                        # means the bridge closed the connection since the last poll.
                        closed = not await reader.read(MAX_REPLY)
            except TimeoutError:
                pass  # nothing more buffered and still open: reuse it
            except OSError:
                closed = True
            if closed:
                await self._drop()
        if self._conn is None:
            self._conn = await self._connect()
        return self._conn

    async def exchange(self, request: bytes, command: str) -> bytes:
        async with self._lock:
            opened = self.connections
            conn = await self._ready()
            try:
                return await self._once(conn, request, command)
            except _HungUpError as hung_up:
                if self.connections != opened:
                    raise hung_up.error from None  # a fresh connection: the bridge refuses us
            # The bridge closed a connection kept from an earlier poll before our request got
            # through (EW11 and USR close idle ones): ask once more on a new one.
            try:
                return await self._once(await self._ready(), request, command)
            except _HungUpError as again:
                raise again.error from None

    async def _once(self, conn: Stream, request: bytes, command: str) -> bytes:
        reader, writer = conn
        what = f"{self.describe()} ({command})"
        try:
            writer.write(request)
            self.requests += 1
            async with asyncio.timeout(self.timeout):
                await writer.drain()
                return await reader.readuntil(b"\r")
        except TimeoutError:
            seen = await self._unread(reader)
            await self._drop()
            got = f"; got {seen[:32]!r}" if seen else " (nothing came back)"
            raise SourceError(
                "timeout", f"no complete reply from {what} within {self.timeout:g}s{got}"
            ) from None
        except asyncio.IncompleteReadError as exc:
            await self._drop()
            error = SourceError(
                "disconnected",
                f"{what}: the bridge closed the connection"
                + (f" after {exc.partial[:32]!r}" if exc.partial else ""),
            )
            if exc.partial:
                raise error from None  # half a reply: the bridge dropped it mid-way
            raise _HungUpError(error) from None
        except asyncio.LimitOverrunError:
            await self._drop()
            raise SourceError("protocol", f"{what}: {MAX_REPLY} bytes without a CR") from None
        except OSError as exc:
            await self._drop()
            error = SourceError("disconnected", f"{what}: {exc.strerror or exc}")
            raise _HungUpError(error) from None
        except BaseException:
            await self._drop()  # cancelled mid-exchange: the stream is out of step
            raise

    @staticmethod
    async def _unread(reader: asyncio.StreamReader) -> bytes:
        """What a timed-out reply had sent so far (for the message)."""
        got = b""
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(0):
                while chunk := await reader.read(MAX_REPLY):
                    got += chunk
        return got

    async def _drop(self) -> None:
        if self._conn is not None:
            _, writer = self._conn
            self._conn = None
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1):
                    await writer.wait_closed()

    async def close(self) -> None:
        async with self._lock:
            await self._drop()
