"""Operators that publish outage schedules: one module each, registered in ``PROVIDERS``.

A second operator (YASNO, DTEK, …) is one new module implementing ``OutageProvider`` plus its
line here; ``outages.operator`` in the config accepts exactly the names registered here.
"""

from __future__ import annotations

from gridwatch.sources.outages.providers.base import OutageProvider, ProviderFactory
from gridwatch.sources.outages.providers.be_svitlo import BeSvitlo

PROVIDERS: dict[str, ProviderFactory] = {
    "be-svitlo": BeSvitlo,
}

__all__ = ["PROVIDERS", "OutageProvider", "ProviderFactory"]
