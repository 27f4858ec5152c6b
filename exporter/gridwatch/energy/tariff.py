"""Tariff math: from a spot price to what a kWh really costs (PROTOCOLS.md §4.4).

import per kWh = (spot + supplier markup + supplier fees + grid transfer + energy tax) × (1 + VAT)
export per kWh = spot × factor + compensation − supplier fee + grid benefit + tax reduction

Figures quoted including VAT are converted once, so VAT is never applied twice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from gridwatch.energy.config import TariffConfig, TransferPeriod
from gridwatch.energy.holidays import is_workday


class Tariff:
    def __init__(self, config: TariffConfig, tz: ZoneInfo) -> None:
        self.config = config
        self._tz = tz
        self._vat_factor = 1.0 + config.vat
        # Per-kWh figures excluding VAT.
        self._to_excl = 1.0 / self._vat_factor if config.prices_include_vat else 1.0
        supplier = config.supplier
        self._fixed_excl = (supplier.markup_per_kwh + supplier.variable_fees_per_kwh) * (
            self._to_excl
        ) + config.energy_tax_per_kwh * self._to_excl

    def _transfer_excl(self, local: dt.datetime) -> float:
        grid = self.config.grid
        for period in grid.transfer_periods:
            if _matches(period, local):
                return period.price_per_kwh * self._to_excl
        return grid.transfer_fee_per_kwh * self._to_excl

    def import_price(self, spot: float, start: float) -> float:
        """Everything one imported kWh costs in the slot starting at ``start``, incl. VAT."""
        local = dt.datetime.fromtimestamp(start, self._tz)
        excl = (
            spot * (1.0 + self.config.grid.transfer_spot_factor)
            + self._fixed_excl
            + self._transfer_excl(local)
        )
        return excl * self._vat_factor

    def export_price(self, spot: float) -> float:
        """What one exported kWh earns (households pay no VAT on it)."""
        e = self.config.export
        return (
            spot * e.spot_factor
            + e.compensation_per_kwh
            - e.supplier_fee_per_kwh
            + e.grid_benefit_per_kwh
            + e.tax_reduction_per_kwh
        )

    def monthly_fees(self) -> float:
        """Supplier and grid fixed fees per month, incl. VAT."""
        fees = self.config.supplier.monthly_fee + self.config.grid.monthly_fee
        return fees if self.config.prices_include_vat else fees * self._vat_factor

    def capacity_price_per_kw(self, month: int) -> float | None:
        """The capacity fee per kW for ``month``, incl. VAT; None without a capacity fee."""
        rule = self.config.capacity_fee
        if rule is None:
            return None
        price = rule.price_for_month(month)
        return price if self.config.prices_include_vat else price * self._vat_factor


def _matches(period: TransferPeriod, local: dt.datetime) -> bool:
    if local.month not in period.months:
        return False
    if period.weekdays_only and not is_workday(local.date()):
        return False
    return period.hours is None or period.hours.contains(local.hour)
