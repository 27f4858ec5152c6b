"""Swedish public holidays and the eves that grid companies treat like them.

A "helgfri vardag" (EIFS 2016:2) is Monday–Friday except public holidays, midsommarafton,
julafton and nyårsafton; capacity-fee windows count only those days.
"""

from __future__ import annotations

import datetime as dt
import functools


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _first_weekday_between(year: int, month: int, first_day: int, weekday: int) -> dt.date:
    start = dt.date(year, month, first_day)
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


@functools.cache
def swedish_holidays(year: int) -> frozenset[dt.date]:
    """Public holidays plus midsommarafton, julafton and nyårsafton."""
    easter = easter_sunday(year)
    midsummer_eve = _first_weekday_between(year, 6, 19, 4)  # Friday 19–25 June
    all_saints = _first_weekday_between(year, 10, 31, 5)  # Saturday 31 Oct – 6 Nov
    return frozenset(
        {
            dt.date(year, 1, 1),
            dt.date(year, 1, 6),
            easter - dt.timedelta(days=2),  # långfredag
            easter,
            easter + dt.timedelta(days=1),  # annandag påsk
            dt.date(year, 5, 1),
            easter + dt.timedelta(days=39),  # Kristi himmelfärd
            dt.date(year, 6, 6),
            midsummer_eve,
            midsummer_eve + dt.timedelta(days=1),
            all_saints,
            dt.date(year, 12, 24),
            dt.date(year, 12, 25),
            dt.date(year, 12, 26),
            dt.date(year, 12, 31),
        }
    )


def is_workday(day: dt.date, extra: frozenset[dt.date] = frozenset()) -> bool:
    """Monday–Friday and not a Swedish holiday (nor one of ``extra``)."""
    return day.weekday() < 5 and day not in swedish_holidays(day.year) and day not in extra
