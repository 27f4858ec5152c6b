"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

from pydantic import Field

from gridwatch.config_types import Strict


class InverterConfig(Strict):
    """One inverter (``inverters:`` list)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")


class GridConfig(Strict):
    """How gridwatch decides that the grid is up (``grid:``)."""
