"""A simulated Solarman V5 Wi-Fi logger stick (TCP 8899) in front of a simulated inverter.

Every V5 request's RTU frame goes to the device (``handle_rtu``) and the reply comes back in a
V5 response frame with the request's sequence byte and the stick's own counter. Tests switch on
the quirks real sticks show (PROTOCOLS-2.md §3.2): a heartbeat instead of the reply, stray
``AT+…`` text before it, a stub payload, a late reply (the answer to a request comes only
after the next one), a doubled CRC, a corrupted CRC, silence. ``replay`` holds recorded
response frames by their RTU request: such a request is answered with the captured frame (the
capture tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sources.inverter import solarman_frame as v5

AT_TEXT = b"AT+YZCMPVER=MW3_16U_5406_2.32-D1\r\n\r\n"  # as seen on port 8899 (pysolarmanv5 #6)
DISCOVERY_MESSAGE = b"WIFIKIT-214028-READ"


class _Discovery(asyncio.DatagramProtocol):
    """The stick's UDP discovery: ``WIFIKIT-214028-READ`` → ``ip,mac,serial``."""

    def __init__(self, logger: SolarmanLoggerSimulator) -> None:
        self.logger = logger
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        if data.strip() == DISCOVERY_MESSAGE and self.transport is not None:
            answer = f"{self.logger.host},ACCF23000001,{self.logger.logger_serial}"
            self.transport.sendto(answer.encode(), addr)


class SolarmanLoggerSimulator:
    def __init__(
        self,
        device: InverterDevice,
        *,
        logger_serial: int = 2799835885,
        host: str = "127.0.0.1",
        port: int = 0,
        replay: dict[bytes, bytes] | None = None,
    ) -> None:
        self.device = device
        self.replay = replay or {}
        self.logger_serial = logger_serial
        self.host = host
        self._wanted_port = port
        self.port: int | None = None
        # Quirks, switched by tests (each applies to every reply while set).
        self.heartbeat_instead = False  # send a heartbeat and no reply
        self.heartbeat_before = False  # a heartbeat, then the reply
        self.at_text = False  # stray AT text in front of the reply (same segment)
        self.stub_payload = False  # "05 00" where the Modbus frame should be
        self.late = False  # hold each reply back until the next request has arrived
        self.double_crc = False  # the Modbus CRC twice
        self.corrupt_crc = False
        self.wrong_serial = False  # echo another logger serial (pysolarmanv5 #87)
        self.split = False  # send each reply in two TCP segments
        self.silent = False
        # What happened.
        self.requests = 0
        self.connections = 0
        self._counter = 0
        self._held: bytes | None = None
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self.udp_port: int | None = None  # the discovery port (a free one on loopback)
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port or self._wanted_port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        if self._udp is None:
            loop = asyncio.get_running_loop()
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Discovery(self), local_addr=(self.host, self.udp_port or 0)
            )
            self.udp_port = int(self._udp.get_extra_info("sockname")[1])

    async def stop(self) -> None:
        """Stop listening and drop clients; ``start`` again serves on the same port."""
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def __aenter__(self) -> SolarmanLoggerSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        buffer = bytearray()
        try:
            while data := await reader.read(4096):
                buffer += data
                frames, _ = v5.cut(buffer)
                for frame in frames:
                    if frame.control == v5.REQUEST:
                        await self._answer(writer, frame)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, frame: v5.V5Frame) -> None:
        self.requests += 1
        self._counter = (self._counter + 1) & 0xFF
        sequence = frame.request_sequence | self._counter << 8
        serial = self.logger_serial ^ 0x1 if self.wrong_serial else self.logger_serial
        if self.silent:
            return
        if self.heartbeat_instead:
            writer.write(v5.encode(v5.HEARTBEAT, sequence, serial, b"\x00"))
            await writer.drain()
            return
        reply = self._reply_frame(frame.payload[15:], sequence, serial)
        out = b""
        if self.late:  # this request gets the previous request's reply
            reply, self._held = self._held or b"", reply
        elif self._held is not None:  # the late one comes at last, then the right one
            reply, self._held = self._held + reply, None
        if self.heartbeat_before:
            out += v5.encode(v5.HEARTBEAT, sequence, serial, b"\x00")
        if self.at_text:
            out += AT_TEXT
        out += reply
        if self.split and len(out) > 4:
            writer.write(out[: len(out) // 2])
            await writer.drain()
            await asyncio.sleep(0.01)
            out = out[len(out) // 2 :]
        writer.write(out)
        await writer.drain()

    def _reply_frame(self, rtu: bytes, sequence: int, serial: int) -> bytes:
        times = (795326, 6584, 1719669942)
        if self.stub_payload:
            return v5.encode(v5.RESPONSE, sequence, serial, b"\x05\x00")
        if rtu in self.replay:
            # The captured frame byte for byte, but for the sequence this request carries
            # (a real stick echoes it) and the checksum that covers it.
            raw = bytearray(self.replay[rtu])
            raw[5:7] = struct.pack("<H", sequence)
            raw[-2] = v5.checksum(bytes(raw[1:-2]))
            return bytes(raw)
        answer = self.device.handle_rtu(rtu)
        if answer is None:
            return b""
        if self.double_crc:
            answer += answer[-2:]
        if self.corrupt_crc:
            answer = answer[:-1] + bytes((answer[-1] ^ 0xFF,))
        return v5.response(sequence, serial, answer, times)
