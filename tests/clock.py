"""The instant at which the clock-sensitive tests run.

Nothing in the suite may depend on the hour, weekday, month or DST state of the machine. Tests
that need a time of day take the ``instant`` (or ``clock``) fixture, which `make test` fixes at
``DEFAULT_AT``; `make test-clock` (scripts/test-clock.sh) runs the tests marked ``clock`` again
with ``GRIDWATCH_TEST_AT`` set to each of several instants — and with the whole process clock
moved there by libfaketime, so code that still read the machine's clock would show up too.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from gridwatch.core.clock import Clock, advancing_from, parse_instant

# A winter Wednesday inside the effektavgift window (weekday 07–19, November–March), 30 s
# before the day-ahead prices for tomorrow are published at 13:00 CET: a test that runs for a
# minute sees both "tomorrow not published yet" and "published".
DEFAULT_AT = "2026-01-14T12:59:30+01:00"
ENV = "GRIDWATCH_TEST_AT"


def configured_instant() -> float:
    return parse_instant(os.environ.get(ENV) or DEFAULT_AT)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "clock: depends on the time of day; `make test-clock` runs it at many instants"
    )


def pytest_report_header(config: pytest.Config) -> str:
    at = dt.datetime.fromtimestamp(configured_instant(), dt.UTC)
    return f"clock-sensitive tests run at {at.isoformat()} ({ENV} to change)"


@pytest.fixture
def instant() -> float:
    """The fixed instant (Unix seconds) this run's clock-sensitive tests use."""
    return configured_instant()


@pytest.fixture
def clock(instant: float) -> Clock:
    """A clock that starts at ``instant`` and advances in real time."""
    return advancing_from(instant)
