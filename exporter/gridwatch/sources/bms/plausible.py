"""Values no battery can report: a decode with the wrong layout, never a reading to export.

aiobmsble decodes whatever frame passes its checksum with the layout it picked. A BMS that speaks
another protocol (JK04 on old JK-B2A16S / JK-B5A24S modules, which aiobmsble does not support)
passes the checksum and decodes to megavolts; its own ``problem`` flag is set too, but that flag
also means real alarms, so it cannot tell the two apart. These limits are far outside any pack
aiobmsble supports (high-voltage stacks stay below 1000 V), so a real pack never trips them.
"""

from __future__ import annotations

from gridwatch.core.source import SourceError
from gridwatch.sources.bms.reading import PackReading

MAX_PACK_VOLTS = 1000.0
MAX_PACK_AMPERES = 5000.0
MAX_CELL_VOLTS = 6.0  # aiobmsble flags cells above 5.906 V as implausible as well
CELSIUS_RANGE = (-100.0, 200.0)
MAX_CELLS = 64

_JK04_HINT = (
    "; a JK BMS with the older JK04 protocol (JK-B2A16S HW 3.x, JK-B5A24S) is not supported "
    "by aiobmsble"
)


def _problems(r: PackReading) -> list[str]:
    found: list[str] = []
    if r.voltage_v is not None and not 0 <= r.voltage_v <= MAX_PACK_VOLTS:
        found.append(f"pack voltage {r.voltage_v:g} V")
    if r.current_a is not None and abs(r.current_a) > MAX_PACK_AMPERES:
        found.append(f"current {r.current_a:g} A")
    if len(r.cells_v) > MAX_CELLS:
        found.append(f"{len(r.cells_v)} cells")
    bad_cells = [(n, v) for n, v in enumerate(r.cells_v, start=1) if not 0 <= v <= MAX_CELL_VOLTS]
    if bad_cells:
        number, volts = bad_cells[0]
        found.append(f"cell {number} at {volts:g} V")
    low, high = CELSIUS_RANGE
    bad_temps = [t for t in r.temperatures if not low <= t.celsius <= high]
    if bad_temps:
        found.append(f"sensor {bad_temps[0].sensor} at {bad_temps[0].celsius:g} °C")
    return found


def check_plausible(r: PackReading) -> PackReading:
    """The reading itself, or a ``protocol`` error naming the first impossible values."""
    problems = _problems(r)
    if not problems:
        return r
    hint = _JK04_HINT if r.bms_type == "jikong_bms" else ""
    raise SourceError(
        "protocol",
        f"impossible values decoded ({', '.join(problems[:3])}), nothing exported: the BMS "
        f"does not speak the protocol of type {r.bms_type!r}{hint}",
    )
