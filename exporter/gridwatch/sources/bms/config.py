"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

from gridwatch.config_types import Strict


class BatteriesConfig(Strict):
    """Bluetooth batteries (`batteries:`)."""
