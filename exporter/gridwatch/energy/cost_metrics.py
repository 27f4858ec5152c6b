"""Metric families for the cost of electricity and the capacity fee (effektavgift), built from
gridwatch's own accounting of each meter's energy counters (persisted across restarts)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gridwatch.core.families.common import non_empty
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.energy.cost import DIRECTIONS, PERIODS, CostAccounting, PriceLookup

JOULES_PER_KWH = 3.6e6
SRC = "accumulated by gridwatch from the meter's energy counters and the quarter-hour prices"


class CostFamilies:
    def __init__(
        self,
        accounting: CostAccounting,
        currency: str,
        *,
        meter_kind: str,
        tariff: bool,
        cached_prices: PriceLookup | None = None,
    ) -> None:
        self._acc = accounting
        self._meter_kind = meter_kind  # the store kind of the meters' readings
        self._currency = currency
        self._tariff = tariff
        self._cached_prices = cached_prices  # memory-only: a scrape does no I/O

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        acc, cur = self._acc, self._currency
        acc.realise_open(self._cached_prices)  # the open quarter's energy joins the totals
        f = _Families()
        for meter in acc.meters():
            f.resets.add_metric([meter], acc.resets(meter))
            for direction in DIRECTIONS:
                if not acc.has_counter(meter, direction):
                    continue
                sums = acc.totals(meter, direction)
                f.spot_cost.add_metric([meter, direction, cur], sums.spot)
                if self._tariff:
                    f.cost.add_metric([meter, direction, cur], sums.total)
                f.priced.add_metric([meter, direction], sums.kwh * JOULES_PER_KWH)
                f.unpriced.add_metric(
                    [meter, direction], acc.unpriced_kwh(meter, direction) * JOULES_PER_KWH
                )
                for period in PERIODS:
                    p = acc.period(meter, direction, period, now)
                    f.period_energy.add_metric([meter, direction, period], p.kwh * JOULES_PER_KWH)
                    f.period_cost.add_metric([meter, direction, cur, period, "spot"], p.spot)
                    if self._tariff:
                        f.period_cost.add_metric([meter, direction, cur, period, "total"], p.total)
        peaks = acc.peaks
        if peaks is not None:
            for meter in peaks.meters():
                hour = peaks.current_hour_watts(meter, now)
                # Only while the meter reports: a silent meter's hour is unknown, not zero.
                if hour is not None and store.fresh(SourceKey(self._meter_kind, meter), now):
                    f.hour.add_metric([meter], hour)
                for rank, peak in enumerate(peaks.peaks(meter, now), start=1):
                    f.peak.add_metric([meter, str(rank)], peak.watts)
                    f.peak_start.add_metric([meter, str(rank)], peak.start)
                billed = peaks.billed_watts(meter, now)
                if billed is not None:
                    f.billed.add_metric([meter], billed)
                fee = peaks.fee(meter, now)
                if fee is not None:
                    f.fee.add_metric([meter, cur], fee)
        return non_empty(f.all())


class _Families:
    def __init__(self) -> None:
        md = ["meter", "direction"]
        self.cost = CounterMetricFamily(
            "gridwatch_energy_cost",
            "Money for imported energy at the full tariff incl. VAT (direction=import), or earned "
            f"by exported energy under the tariff (direction=export); {SRC}.",
            labels=[*md, "currency"],
        )
        self.spot_cost = CounterMetricFamily(
            "gridwatch_energy_spot_cost",
            f"Energy × spot price only (excl. fees and VAT), per direction; {SRC}.",
            labels=[*md, "currency"],
        )
        self.priced = CounterMetricFamily(
            "gridwatch_energy_priced_joules",
            f"Energy already priced into the cost counters; {SRC}.",
            labels=md,
        )
        self.unpriced = GaugeMetricFamily(
            "gridwatch_energy_unpriced_joules",
            "Energy waiting for its quarter's price (priced when the day's prices arrive).",
            labels=md,
        )
        self.period_energy = GaugeMetricFamily(
            "gridwatch_energy_period_joules",
            "Energy in the current local quarter, hour, day or month so far (resets at its "
            f"start, DST-correct); {SRC}.",
            labels=[*md, "period"],
        )
        self.period_cost = GaugeMetricFamily(
            "gridwatch_energy_period_cost",
            "Cost (import) or earnings (export) in the current local quarter, hour, day or "
            f"month so far, at spot or total price; {SRC}.",
            labels=[*md, "currency", "period", "price"],
        )
        self.resets = CounterMetricFamily(
            "gridwatch_energy_counter_resets",
            "Meter counter resets, jumps or replacements that started a new baseline "
            "(their energy is not priced).",
            labels=["meter"],
        )
        self.hour = GaugeMetricFamily(
            "gridwatch_capacity_current_hour_average_watts",
            "Imported energy so far in the current clock hour ÷ 1 h: the hourly average "
            "the capacity fee sees if the rest of the hour uses nothing.",
            labels=["meter"],
        )
        self.peak = GaugeMetricFamily(
            "gridwatch_capacity_peak_watts",
            "The month's highest hourly average imports counted by the capacity-fee rule "
            "(weighted, e.g. night hours at half), rank 1 = highest.",
            labels=["meter", "rank"],
        )
        self.peak_start = GaugeMetricFamily(
            "gridwatch_capacity_peak_start_timestamp_seconds",
            "Start of each counted peak hour of the month.",
            labels=["meter", "rank"],
        )
        self.billed = GaugeMetricFamily(
            "gridwatch_capacity_billed_watts",
            "Mean of the counted peak hours so far this month: the power the fee is billed on.",
            labels=["meter"],
        )
        self.fee = GaugeMetricFamily(
            "gridwatch_capacity_fee",
            "Capacity fee (effektavgift) so far this month incl. VAT, from the tariff's rule.",
            labels=["meter", "currency"],
        )

    def all(self) -> list[Metric]:
        return list(vars(self).values())
