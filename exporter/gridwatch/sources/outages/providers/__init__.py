"""Operators that publish outage schedules: one module each, registered in ``PROVIDERS``.

A second operator (YASNO, DTEK, …) is one new module implementing ``OutageProvider`` plus its
line here; ``outages.operator`` in the config accepts exactly the names registered here.
"""

from __future__ import annotations

from gridwatch.sources.outages.providers.base import OutageProvider, ProviderFactory
from gridwatch.sources.outages.providers.be_svitlo import BeSvitlo
from gridwatch.sources.outages.providers.dtek_gpv import DtekGpv
from gridwatch.sources.outages.providers.lvivoblenergo import Lvivoblenergo
from gridwatch.sources.outages.providers.yasno import YasnoDniproCek, YasnoDniproDnem, YasnoKyiv

PROVIDERS: dict[str, ProviderFactory] = {
    "be-svitlo": BeSvitlo,  # Prykarpattyaoblenergo (Ivano-Frankivsk)
    "yasno-kyiv": YasnoKyiv,  # YASNO: ДТЕК Київські електромережі
    "yasno-dnipro-dnem": YasnoDniproDnem,  # YASNO: ДТЕК Дніпровські електромережі
    "yasno-dnipro-cek": YasnoDniproCek,  # YASNO: ЦЕК
    "dtek-gpv": DtekGpv,  # DTEK DisconSchedule JSON (and converters) from a mirror URL
    "lvivoblenergo": Lvivoblenergo,
}
# Queue codes each operator uses, where they are known to be fixed (checked by check-config;
# the others are checked against the operator's own list at run time).
_TWELVE = r"^[1-6]\.[12]$"
QUEUE_PATTERNS = {
    "yasno-kyiv": _TWELVE,
    "yasno-dnipro-dnem": _TWELVE,
    "yasno-dnipro-cek": _TWELVE,
    "lvivoblenergo": _TWELVE,
}
# Operators whose data has no default address: outages.url is required.
NEEDS_URL = frozenset({"dtek-gpv"})


def default_max_age(operator: str) -> float | None:
    """How old the operator's own data may be before its days read ``no_data``."""
    age = getattr(PROVIDERS[operator], "default_max_age", None)
    return float(age) if age is not None else None


__all__ = [
    "NEEDS_URL",
    "PROVIDERS",
    "QUEUE_PATTERNS",
    "OutageProvider",
    "ProviderFactory",
    "default_max_age",
]
