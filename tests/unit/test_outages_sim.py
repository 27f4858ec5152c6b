"""The simulated operator's made-up schedules parse as real ones and move when they change."""

from __future__ import annotations

from datetime import date

import pytest

from gridwatch.sim.outages.operator import ALL_QUEUES, Rotation, day_element
from gridwatch.sources.outages.providers.be_svitlo import parse_schedule

pytestmark = pytest.mark.clock

DAY = date(2026, 11, 20)


def test_generated_days_parse_and_change_each_step() -> None:
    rotation = Rotation(300)
    crossed = False
    for queue in ALL_QUEUES:
        for step in range(8):
            windows = rotation.windows(queue, DAY, step)
            days = parse_schedule([day_element(DAY, {queue: windows})], queue)
            assert days[DAY].windows
            crossed |= any(w.end_text < w.start_text for w in days[DAY].windows)
            assert rotation.windows(queue, DAY, step + 1) != windows
    assert crossed  # some windows run past midnight
