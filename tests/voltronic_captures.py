"""Voltronic captures in the fixtures' text format: ``NAME<TAB>'payload'`` then the wire hex.

The real captures are in ../shared/fixtures/inverter-pi30 (tests using them skip without it);
tests/fixtures/inverter-pi30 keeps a few frames of them so a fresh clone still tests the core.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridwatch.sim.inverter.voltronic import VoltronicDevice

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "inverter-pi30"
OWN = Path(__file__).resolve().parent / "fixtures" / "inverter-pi30"


def frames(path: Path) -> dict[str, bytes]:
    """Wire frames by name from one ``*_frames.txt`` file."""
    out: dict[str, bytes] = {}
    name = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("  wire(") and name is not None:
            out[name] = bytes.fromhex(line.split("\t", 1)[1])
            name = None
        elif "\t" in line:
            name = line.split("\t", 1)[0]
    return out


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} not present (the shared fixtures are outside the repository)")
    return path


def mppsolar_vectors() -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(
        shared("pi30_mppsolar_test_responses_decoded.json").read_text(encoding="utf-8")
    )
    return data


class UnitLink:
    """The simulated Voltronic unit answering each request frame directly (no line between)."""

    def __init__(self, device: VoltronicDevice) -> None:
        self.device = device
        self.requests = 0

    async def exchange(self, request: bytes, command: str) -> bytes:
        self.requests += 1
        reply = self.device.answer(request)
        assert reply is not None
        return reply

    async def close(self) -> None: ...

    def describe(self) -> str:
        return "unit"
