"""The one small interface every inverter transport implements: read a range of registers."""

from __future__ import annotations

from typing import Protocol

from gridwatch.core.source import SourceError

ILLEGAL_ADDRESS = 2


class ModbusExceptionError(SourceError):
    """The device answered a read with a Modbus exception; ``code`` says which."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__("modbus_exception", message)
        self.code = code


class Transport(Protocol):
    """Serial RTU, Modbus TCP, RTU-over-TCP or the Eybond dongle; failures raise SourceError."""

    requests: int  # Modbus requests sent so far (the benchmark counts them)

    async def read(self, start: int, count: int) -> list[int]:
        """``count`` raw 16-bit words from ``start`` (function code chosen at construction)."""
        ...

    async def close(self) -> None:
        """Release sockets, ports and serial devices; the next read opens them again."""
        ...

    def describe(self) -> str:
        """Where the inverter is, for messages (never secrets)."""
        ...
