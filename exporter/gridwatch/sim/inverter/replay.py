"""A device that answers with recorded register words only (the real captures' blocks).

A read inside a recorded block gets those words; any other read answers "illegal data
address", as a unit without those registers does. Used behind the pymodbus server and the
Solarman logger simulator to serve the captures of fixtures/inverter-deye exactly.
"""

from __future__ import annotations

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sources.inverter.regmap import RegisterMap
from gridwatch.sources.inverter.rtu import MAX_READ_COUNT

ILLEGAL_ADDRESS = 2


class RecordedDevice(InverterDevice):
    def __init__(self, regmap: RegisterMap, words: dict[int, int], *, unit: int = 1) -> None:
        super().__init__(regmap, unit=unit)
        self.words = dict(words)

    def registers(self) -> dict[int, int]:
        return dict(self.words)

    def read(self, start: int, count: int) -> list[int] | int:
        if self.exception is not None:
            return self.exception
        if not 1 <= count <= MAX_READ_COUNT:
            return 3
        block = [self.words.get(a) for a in range(start, start + count)]
        if any(w is None for w in block):
            return ILLEGAL_ADDRESS
        self.reads += 1
        return [w for w in block if w is not None]
