"""A simulated Eybond / SmartESS Wi-Fi dongle in front of a simulated inverter.

It listens for the UDP wake-up ``set>server=IP:PORT;``, answers ``rsp>server=1;`` and connects
to IP:PORT over TCP, then forwards every ``FF 04`` frame's RTU request to the device and sends the
RTU reply back in a dongle frame with the request's transaction id. Tests switch on faults: a
late or missing connect-back, a drop mid-reply, a bad CRC, a wrong transaction id, heartbeat
frames between replies, silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sources.inverter import eybond_frame
from gridwatch.sources.inverter.rtu import FrameError

_WAKE = re.compile(rb"^set>server=([0-9A-Za-z.:\-]+):(\d{1,5});$")


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, dongle: EybondDongleSimulator) -> None:
        self.dongle = dongle
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        self.dongle.wakeups += 1
        match = _WAKE.match(data.strip())
        if match is None or self.dongle.ignore_wakeups:
            return
        if self.transport is not None:
            self.transport.sendto(b"rsp>server=1;", addr)
        host, port = match.group(1).decode(), int(match.group(2))
        self.dongle.connect_back(host, port)


class EybondDongleSimulator:
    def __init__(
        self,
        device: InverterDevice,
        *,
        host: str = "127.0.0.1",
        udp_port: int = 0,
        device_code: int = eybond_frame.DEVICE_CODE,
    ) -> None:
        self.device = device
        self.host = host
        self._wanted_udp_port = udp_port
        self.udp_port: int | None = None
        self.device_code = device_code
        # Faults and behaviour, switched by tests.
        self.connect_delay = 0.0  # seconds between the wake-up and the connect-back
        self.ignore_wakeups = False
        self.drop_mid_reply = False
        self.corrupt_crc = False
        self.wrong_tid = False
        self.heartbeat = False  # send a datalogger frame (function 01) before every reply
        self.silent = False  # read requests, answer nothing
        # What happened, for assertions.
        self.wakeups = 0
        self.connections = 0
        self.requests = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer: asyncio.StreamWriter | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.host, self.udp_port or self._wanted_udp_port)
        )
        self._udp = transport
        self.udp_port = int(transport.get_extra_info("sockname")[1])

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        await self.disconnect()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def __aenter__(self) -> EybondDongleSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def disconnect(self) -> None:
        """Drop the TCP connection, as a dongle does when its Wi-Fi hiccups."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def connect_back(self, host: str, port: int) -> None:
        task = asyncio.get_running_loop().create_task(self._session(host, port))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _session(self, host: str, port: int) -> None:
        if self.connect_delay:
            await asyncio.sleep(self.connect_delay)
        await self.disconnect()  # a new wake-up replaces the old connection
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return  # nobody listening: a real dongle just tries again after the next wake-up
        self._writer = writer
        self.connections += 1
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, FrameError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            header = await reader.readexactly(eybond_frame.HEADER_SIZE)
            body = await reader.readexactly(eybond_frame.body_length(header))
            frame = eybond_frame.decode(header + body)
            if not frame.is_forward:
                continue  # datalogger commands are not simulated
            self.requests += 1
            if self.silent:
                continue
            reply = self.device.handle_rtu(frame.payload)
            if reply is None:
                continue
            if self.corrupt_crc:
                reply = reply[:-1] + bytes((reply[-1] ^ 0xFF,))
            if self.heartbeat:
                writer.write(eybond_frame.HEADER.pack(frame.tid, 1, 4) + b"\xff\x01\x00\x00")
            tid = frame.tid ^ 0x5555 if self.wrong_tid else frame.tid
            out = eybond_frame.encode(tid, reply, self.device_code)
            if self.drop_mid_reply:
                writer.write(out[: len(out) // 2])
                await writer.drain()
                writer.close()
                return
            writer.write(out)
            await writer.drain()
