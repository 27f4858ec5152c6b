"""A JK BMS as its BLE UART module presents it: commands in on ffe1, captured frames out.

The pack answers 0x97 (device info, then the "ready" ACK) and 0x96 (the settings frame where one
was captured, then cell info) by replaying real frames in BLE-sized notifications, as the module's
UART bridge does; each frame starts a new notification. Faults a user meets in the
field can be switched on: out of range, pairing required (firmware 19.30+), a connection that
drops in the middle of a frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SERVICE_UUID = "0000ffe0-0000-1000-8000-00805f9b34fb"
CHAR_UUID = "0000ffe1-0000-1000-8000-00805f9b34fb"
JK_MANUFACTURER_ID = 0x0B65  # 2917, what JK modules advertise (older ones 0x4B4A)

COMMAND_HEADER = b"\xaa\x55\x90\xeb"
FRAME_HEADER = b"\x55\xaa\xeb\x90"
READY_ACK = COMMAND_HEADER + b"\xc8\x01\x01" + bytes(12) + b"\x44"
AT_JUNK = b"AT\r\n"  # the BLE module's own chatter, spliced into the stream
CMD_CELL_INFO = 0x96
CMD_DEVICE_INFO = 0x97
FRAME_LENGTH = 300


@dataclass(frozen=True, slots=True)
class JkFrames:
    """What one pack says: its device-info frame, cell-info frame and ready ACK (real captures)."""

    device_info: bytes
    cell_info: bytes
    ack: bytes = READY_ACK + AT_JUNK
    settings: bytes = b""  # the 0x01 frame a JK sends before cell info, where one was captured

    @property
    def ack_attached(self) -> bool:
        """Firmware 19.05 sends the ACK glued to the device-info frame."""
        return READY_ACK in self.device_info[FRAME_LENGTH:]


@dataclass(frozen=True, slots=True)
class Response:
    notifications: list[bytes]
    disconnect: bool = False  # the link drops after the notifications were sent


def command_ok(data: bytes) -> bool:
    """A 20-byte JK command frame with a correct sum-of-bytes checksum."""
    return len(data) == 20 and data.startswith(COMMAND_HEADER) and sum(data[:19]) & 0xFF == data[19]


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@dataclass
class JkPack:
    """One simulated pack. Attributes are live: tests flip faults while the pack is in use."""

    address: str
    name: str  # advertised local name
    frames: JkFrames
    manufacturer_id: int = JK_MANUFACTURER_ID
    manufacturer_data: bytes = bytes.fromhex("88a0c847800fd5c5")
    rssi: int = -62
    chunk_size: int = 20  # ATT MTU 23 − 3; JK modules with a larger MTU send 128-byte pieces
    in_range: bool = True
    requires_pairing: bool = False
    drop_mid_frame: bool = False  # disconnect halfway through the next cell-info frame
    silent: bool = False  # connects, takes commands, never answers (a hung UART bridge)
    commands: list[int] = field(default_factory=list)  # every valid command received

    @property
    def service_uuids(self) -> list[str]:
        return [SERVICE_UUID]

    def on_write(self, data: bytes) -> Response:
        """The notifications (and link fate) that follow a write to ffe1."""
        if not command_ok(data):
            return Response([])  # the module ignores what it does not understand
        command = data[4]
        self.commands.append(command)
        if self.silent:
            return Response([])
        if command == CMD_DEVICE_INFO:
            stream = self.frames.device_info
            if not self.frames.ack_attached:
                stream += self.frames.ack
            return Response(chunks(stream, self.chunk_size))
        if command == CMD_CELL_INFO:
            settings = self.frames.settings
            first = chunks(AT_JUNK + settings, self.chunk_size) if settings else []
            cell = chunks(AT_JUNK + self.frames.cell_info, self.chunk_size)
            if self.drop_mid_frame:
                return Response(first + cell[: len(cell) // 2], disconnect=True)
            return Response(first + cell)
        return Response([])
