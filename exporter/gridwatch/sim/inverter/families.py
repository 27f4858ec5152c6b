"""Inverter families `gridwatch demo --inverter NAME` can simulate: the config keys each sets on
the demo's inverters. Cheap to import (the command line lists the names). A family is one entry."""

from __future__ import annotations

from typing import Any

DEMO_FAMILIES: dict[str, dict[str, Any]] = {
    "smg": {"protocol": "modbus", "model": "smg_ii"},  # Easun SMG-II over Modbus
    "pi30": {"protocol": "pi30"},  # Voltronic/Axpert PI30 (a MAX unit: two PV strings)
    "pi18": {"protocol": "pi18"},  # Voltronic PI18 (MPP Solar LV5048, InfiniSolar)
    # Voltronic PI17 (three-phase Infini-Solar), behind a transparent RS232-to-TCP bridge
    "pi17": {"protocol": "pi17"},
    # Deye/Sunsynk hybrids, simulated behind a Solarman V5 logger stick (sim/inverter/deye_demo.py)
    "deye-1p": {"protocol": "modbus", "model": "deye_sg0xlp1"},
    "deye-3p": {"protocol": "modbus", "model": "deye_sg0xlp3"},
    "deye-3p-hv": {"protocol": "modbus", "model": "deye_sg01hp3"},
}
