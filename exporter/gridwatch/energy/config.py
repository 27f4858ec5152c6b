"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

from gridwatch.config_types import Strict


class TariffConfig(Strict):
    """The household's contract: markups, fees, taxes, VAT, capacity fee (`tariff:`)."""
