"""The household's electricity contract (`tariff:`): supplier, grid company, taxes, VAT, export
compensation and the capacity fee (effektavgift) rule.

Amounts are in the price currency (SEK for SE1–SE4), per kWh or per month. Whether they include
VAT is said once with ``prices_include_vat``; spot prices never include it.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from gridwatch.config_types import Strict

ALL_MONTHS = list(range(1, 13))
WINTER_MONTHS = [11, 12, 1, 2, 3]


class HourWindow(Strict):
    """Local clock hours ``start`` ≤ hour < ``end``; ``end`` < ``start`` wraps past midnight."""

    start: int = Field(ge=0, le=23)
    end: int = Field(ge=0, le=24)

    def contains(self, hour: int) -> bool:
        if self.start <= self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


class SupplierConfig(Strict):
    """Elhandel: the retailer's markup and pass-through fees on top of spot."""

    markup_per_kwh: float = 0.0  # påslag
    variable_fees_per_kwh: float = 0.0  # elcertifikat, ursprungsgarantier, balance fees …
    monthly_fee: float = 0.0


class TransferPeriod(Strict):
    """A time-of-use grid transfer fee; the first matching period wins."""

    months: list[int] = Field(default_factory=lambda: list(ALL_MONTHS))
    weekdays_only: bool = False  # Monday–Friday that are not public holidays
    hours: HourWindow | None = None
    price_per_kwh: float


class GridConfig(Strict):
    """Elnät: the grid company's fees."""

    transfer_fee_per_kwh: float = 0.0  # överföringsavgift outside every period below
    transfer_periods: list[TransferPeriod] = Field(default_factory=list)
    transfer_spot_factor: float = 0.0  # spot-linked fees, e.g. 0.0561 × spot (Kraftringen)
    monthly_fee: float = 0.0  # abonnemang / säkringsavgift


class ExportConfig(Strict):
    """What exported energy earns, per kWh (no VAT for households)."""

    spot_factor: float = 1.0  # the supplier pays spot × factor
    compensation_per_kwh: float = 0.0  # fixed amount on top (or instead, with spot_factor 0)
    supplier_fee_per_kwh: float = 0.0  # deducted by the supplier
    grid_benefit_per_kwh: float = 0.0  # nätnytta from the grid company
    tax_reduction_per_kwh: float = 0.0  # skattereduktion (0.60 until 2025; 0 from 2026)


class CapacityFeeConfig(Strict):
    """Effektavgift: a price per kW on the mean of the month's highest hourly averages."""

    price_per_kw: float = Field(ge=0)  # per kW and month
    winter_price_per_kw: float | None = Field(default=None, ge=0)
    winter_months: list[int] = Field(default_factory=lambda: list(WINTER_MONTHS))
    peaks: int = Field(default=3, ge=1, le=10)  # N highest hours
    distinct_days: bool = True  # at most one of the N per day
    months: list[int] = Field(default_factory=lambda: list(ALL_MONTHS))  # months with a fee
    weekdays_only: bool = False  # count only helgfria vardagar
    exclude_holidays: bool = True  # with weekdays_only: Swedish public holidays do not count
    extra_holidays: list[dt.date] = Field(default_factory=list)
    hours: HourWindow | None = None  # e.g. {start: 7, end: 19}; None = all hours
    night_weight: float = Field(default=1.0, ge=0, le=1)  # e.g. 0.5 (Ellevio)
    night_hours: HourWindow = HourWindow(start=22, end=6)

    @model_validator(mode="after")
    def _months_valid(self) -> CapacityFeeConfig:
        for month in (*self.months, *self.winter_months):
            if not 1 <= month <= 12:
                raise ValueError(f"month {month} is not 1–12")
        return self

    def price_for_month(self, month: int) -> float:
        if self.winter_price_per_kw is not None and month in self.winter_months:
            return self.winter_price_per_kw
        return self.price_per_kw


class TariffConfig(Strict):
    """The household's contract: markups, fees, taxes, VAT, capacity fee (`tariff:`)."""

    prices_include_vat: bool = False  # do the amounts below include VAT?
    vat: float = Field(default=0.25, ge=0, le=1)
    supplier: SupplierConfig = SupplierConfig()
    grid: GridConfig = GridConfig()
    energy_tax_per_kwh: float = 0.0  # energiskatt
    export: ExportConfig = ExportConfig()
    capacity_fee: CapacityFeeConfig | None = None

    @model_validator(mode="after")
    def _months_valid(self) -> TariffConfig:
        for period in self.grid.transfer_periods:
            for month in period.months:
                if not 1 <= month <= 12:
                    raise ValueError(f"month {month} is not 1–12")
        return self
