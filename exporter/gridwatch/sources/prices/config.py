"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

from gridwatch.config_types import Strict


class PricesConfig(Strict):
    """Where spot prices come from (`prices:`)."""
