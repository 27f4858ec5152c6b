from __future__ import annotations

import pytest

from gridwatch.energy.phases import PeakTracker, imbalance, load_ratios


def test_imbalance_uses_absolute_currents_of_present_phases() -> None:
    assert imbalance({"l1": 8.0, "l2": 2.0, "l3": 5.0}) == 6.0
    assert imbalance({"l1": 8.0, "l3": 5.0}) == 3.0
    assert imbalance({"l1": 8.0}) is None
    assert imbalance({}) is None


def test_load_ratio() -> None:
    assert load_ratios({"l1": 8.0, "l2": 16.0}, 16.0) == {"l1": 0.5, "l2": 1.0}


def test_peak_tracker_windows_per_device() -> None:
    peaks = PeakTracker()
    assert peaks.take("a") == {}
    peaks.observe("a", {"l1": 3.0, "l2": 1.0})
    peaks.observe("a", {"l1": 10.0, "l2": 0.5})
    peaks.observe("a", {"l1": 4.0, "l2": 0.7})
    peaks.observe("b", {"l1": 1.0})
    assert peaks.take("a") == {"l1": 10.0, "l2": 1.0}
    assert peaks.take("a") == {"l1": 4.0, "l2": 0.7}
    assert peaks.take("b") == {"l1": 1.0}
    peaks.forget("a")
    assert peaks.take("a") == {}


@pytest.mark.parametrize("fuse", [16.0, 25.0])
def test_load_ratio_one_at_fuse(fuse: float) -> None:
    assert load_ratios({"l1": fuse}, fuse)["l1"] == 1.0
