"""The Eybond / SmartESS Wi-Fi dongle transport: the dongle is the TCP client.

gridwatch listens on a TCP port, tells the dongle where with a UDP datagram
``set>server=IP:PORT;`` to its port 58899, and the dongle connects back. Requests then go as
dongle frames (see ``eybond_frame``) over that connection, one at a time. The connection is
reused across polls; a broken or idle one is closed and the handshake repeated. The listener
stays open for the life of the transport (one port, no matter how often the dongle reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from dataclasses import dataclass

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter import eybond_frame
from gridwatch.sources.inverter.rtu import (
    READ_HOLDING,
    FrameError,
    parse_read_response,
    read_request,
)
from gridwatch.sources.inverter.transport import ModbusExceptionError

DONGLE_UDP_PORT = 58899


@dataclass(frozen=True, slots=True)
class EybondSettings:
    dongle_host: str
    dongle_port: int = DONGLE_UDP_PORT
    listen_host: str = "0.0.0.0"
    listen_port: int = 8899  # 0 = any free port (tests)
    advertise_host: str | None = None  # the address the dongle connects to; default: auto
    unit: int = 1
    function: int = READ_HOLDING
    timeout: float = 5.0  # per request
    connect_timeout: float = 10.0  # wake-up until the dongle has connected back
    wake_interval: float = 2.0  # resend the wake-up this often while waiting (UDP may be lost)
    idle_timeout: float = 30.0  # a connection silent this long is replaced by a new handshake


_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class EybondTransport:
    def __init__(self, settings: EybondSettings) -> None:
        self.s = settings
        self.requests = 0
        self.handshakes = 0
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._conn: _Conn | None = None
        self._waiting: asyncio.Future[_Conn] | None = None
        self._last_activity = 0.0
        self._tid = 0x0771  # easunpy's first id is 0x0772; any start works
        self._lock = asyncio.Lock()
        self._peer_ips: set[str] = set()

    def describe(self) -> str:
        return f"Eybond dongle {self.s.dongle_host} (wake-up UDP {self.s.dongle_port})"

    @property
    def listen_port(self) -> int | None:
        return self._port

    @property
    def connected(self) -> bool:
        return self._alive()

    async def read(self, start: int, count: int) -> list[int]:
        async with self._lock:
            try:
                await self._ensure_connection()
                return await self._exchange(start, count)
            except SourceError as exc:
                # After a checked reply the stream is still in step; after anything else it
                # may not be, so the next poll starts from a fresh connection.
                if exc.reason not in {"crc", "modbus_exception"}:
                    self._drop()
                raise
            except BaseException:  # cancelled mid-exchange (overall poll timeout)
                self._drop()
                raise

    async def close(self) -> None:
        self._drop()
        if self._waiting is not None and not self._waiting.done():
            self._waiting.cancel()
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    # Connection ----------------------------------------------------------------------------

    def _alive(self) -> bool:
        if self._conn is None:
            return False
        reader, writer = self._conn
        return not (reader.at_eof() or writer.is_closing())

    def _drop(self) -> None:
        if self._conn is not None:
            _reader, writer = self._conn
            self._conn = None
            writer.close()

    async def _ensure_connection(self) -> None:
        idle = time.monotonic() - self._last_activity > self.s.idle_timeout
        if self._alive() and not idle:
            return
        self._drop()
        await self._listen()
        loop = asyncio.get_running_loop()
        self._waiting = loop.create_future()
        deadline = loop.time() + self.s.connect_timeout
        try:
            while True:
                advertised = await self._wake()
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise SourceError(
                        "connection",
                        f"the dongle {self.s.dongle_host} did not connect back to {advertised} "
                        f"within {self.s.connect_timeout:g}s of the UDP wake-up (can it reach "
                        "that address? set advertise_host to this machine's LAN address)",
                    )
                try:
                    self._conn = await asyncio.wait_for(
                        asyncio.shield(self._waiting), min(self.s.wake_interval, remaining)
                    )
                    break
                except TimeoutError:
                    continue
        finally:
            waiting, self._waiting = self._waiting, None
            if not waiting.done():
                waiting.cancel()
            elif not waiting.cancelled() and self._conn is None:
                self._conn = waiting.result()  # arrived just as we gave up: use it next poll
        self.handshakes += 1
        self._last_activity = time.monotonic()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                self.s.dongle_host, self.s.dongle_port, type=socket.SOCK_DGRAM
            )
        except OSError as exc:
            raise SourceError(
                "connection", f"cannot resolve the dongle {self.s.dongle_host}: {exc}"
            ) from None
        # Only the dongle may connect: anyone else on the network could feed us made-up values.
        self._peer_ips = {str(info[4][0]) for info in infos}
        try:
            self._server = await asyncio.start_server(
                self._accept, self.s.listen_host, self.s.listen_port, reuse_address=True
            )
        except OSError as exc:
            raise SourceError(
                "connection",
                f"cannot listen on {self.s.listen_host}:{self.s.listen_port} for the dongle: "
                f"{exc.strerror or exc}",
            ) from None
        self._port = int(self._server.sockets[0].getsockname()[1])

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]).removeprefix("::ffff:") if peer else ""
        from_dongle = address in self._peer_ips
        if not from_dongle or self._alive():
            writer.close()  # someone else, or an extra connection: keep only the first
            return
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result((reader, writer))
        else:
            # Connected after we gave up waiting: it answers our wake-up, so use it next poll.
            self._conn = (reader, writer)
            self._last_activity = time.monotonic()

    async def _wake(self) -> str:
        """Send ``set>server=IP:PORT;`` to the dongle; returns the advertised address."""
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(self.s.dongle_host, self.s.dongle_port)
            )
        except OSError as exc:
            raise SourceError(
                "connection",
                f"cannot send the wake-up to {self.s.dongle_host}:{self.s.dongle_port}: "
                f"{exc.strerror or exc}",
            ) from None
        try:
            host = self.s.advertise_host or self._own_address(transport)
            advertised = f"{host}:{self._port}"
            transport.sendto(f"set>server={advertised};".encode("ascii"))
        finally:
            transport.close()
        return advertised

    def _own_address(self, transport: asyncio.DatagramTransport) -> str:
        if self.s.listen_host not in {"", "0.0.0.0", "::"}:
            return self.s.listen_host
        # The local address the kernel picked to reach the dongle: the one it can reach us at.
        sockname = transport.get_extra_info("sockname")
        host = str(sockname[0]) if sockname else socket.gethostname()
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(host).is_unspecified:
                host = "127.0.0.1"
        return host

    # Exchange ------------------------------------------------------------------------------

    async def _exchange(self, start: int, count: int) -> list[int]:
        request = read_request(self.s.unit, start, count, self.s.function)
        frame = await self._round_trip(request, f"a read of {count} registers at {start}")
        try:
            return parse_read_response(frame.payload, self.s.unit, self.s.function, count)
        except FrameError as exc:
            if exc.code is not None:
                where = f" reading {count} at {start}"
                raise ModbusExceptionError(exc.code, exc.message + where) from None
            raise SourceError(exc.reason, exc.message) from None

    async def _round_trip(self, request: bytes, what: str) -> eybond_frame.DongleFrame:
        """Send ``request`` in a forward frame; the dongle's reply with the same transaction id.

        ``what`` names the request in the timeout's reason. Whatever the unit speaks behind the
        dongle (Modbus RTU, Voltronic ASCII) rides the same way.
        """
        assert self._conn is not None
        reader, writer = self._conn
        self._tid = (self._tid + 1) & 0xFFFF
        tid = self._tid
        writer.write(eybond_frame.encode(tid, request))
        self.requests += 1
        try:
            async with asyncio.timeout(self.s.timeout):
                await writer.drain()
                frame = await self._next_forward_frame(reader)
        except TimeoutError:
            raise SourceError(
                "timeout", f"no reply from the dongle within {self.s.timeout:g}s to {what}"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise SourceError("disconnected", f"dongle connection failed: {exc}") from None
        if frame.tid != tid:
            raise SourceError(
                "protocol", f"dongle reply has transaction id {frame.tid:#06x}, sent {tid:#06x}"
            )
        self._last_activity = time.monotonic()
        return frame

    async def _next_forward_frame(self, reader: asyncio.StreamReader) -> eybond_frame.DongleFrame:
        while True:
            got_header = False
            try:
                header = await reader.readexactly(eybond_frame.HEADER_SIZE)
                got_header = True
                length = eybond_frame.body_length(header)
                body = await reader.readexactly(length)
                frame = eybond_frame.decode(header + body)
            except asyncio.IncompleteReadError as exc:
                where = "mid-reply" if got_header or exc.partial else "before replying"
                message = f"the dongle closed the connection {where}"
                raise SourceError("disconnected", message) from None
            except FrameError as exc:
                raise SourceError(exc.reason, exc.message) from None
            if frame.is_forward:
                return frame
            # Datalogger frames (heartbeats, other functions) share the socket; skip them.
