"""Public holidays, and the eves that Swedish grid companies treat like them.

A "helgfri vardag" (EIFS 2016:2) is Monday–Friday except public holidays, midsommarafton,
julafton and nyårsafton; capacity-fee windows count only those days. The calendars come from
the ``holidays`` package (maintained per country, with each year's moved days).
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays

# Sweden's eves that are days off in practice are the package's "de_facto" category.
_CATEGORIES: dict[str, tuple[str, ...]] = {"SE": ("public", "de_facto"), "UA": ("public",)}


@functools.cache
def public_holidays(country: str, year: int) -> frozenset[dt.date]:
    """Days off in ``country`` (ISO 3166 code, e.g. SE or UA) in ``year``; Sundays only when
    they are holidays of their own."""
    categories = _CATEGORIES.get(country, ("public",))
    return frozenset(holidays.country_holidays(country, years=year, categories=categories))


def swedish_holidays(year: int) -> frozenset[dt.date]:
    """Public holidays plus midsommarafton, julafton and nyårsafton."""
    return public_holidays("SE", year)


def is_workday(day: dt.date, extra: frozenset[dt.date] = frozenset()) -> bool:
    """Monday–Friday and not a Swedish holiday (nor one of ``extra``)."""
    return day.weekday() < 5 and day not in swedish_holidays(day.year) and day not in extra
