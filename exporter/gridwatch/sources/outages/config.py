"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

from gridwatch.config_types import Strict


class OutagesConfig(Strict):
    """The outage schedule of one queue (`outages:`)."""
