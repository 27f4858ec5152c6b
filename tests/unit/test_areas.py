"""The area list is complete and cheap: every package under sources/ is in it, each declares
its own config sections, and declaring an area imports none of its heavy dependencies."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import gridwatch
from gridwatch.areas import AREAS
from gridwatch.config import SharedSections, config_model, parse_config
from gridwatch.core.area import Area, Section

SOURCES = Path(gridwatch.__file__).parent / "sources"


def test_every_area_package_is_listed() -> None:
    packages = {p.parent.name for p in SOURCES.glob("*/__init__.py")}
    assert packages == {area.name for area in AREAS}


def test_every_area_points_at_its_component_and_demo_part() -> None:
    for area in AREAS:
        assert callable(importlib.import_module(area.component).component), area.name
        assert area.demo_part is not None
        assert callable(importlib.import_module(area.demo_part).demo_part), area.name


def test_sections_come_from_the_areas() -> None:
    keys = {s.key for area in AREAS for s in area.sections}
    assert keys == {"meters", "prices", "tariff", "inverters", "grid", "batteries", "outages"}
    config = parse_config({})
    for area in AREAS:
        assert not area.wanted(config), area.name  # an empty config wants no area
        for section in area.sections:
            assert section.of(config) == section.default()


def test_a_section_key_is_declared_once() -> None:
    twice = Area("twice", "x", lambda _c: False, (Section[None]("site", None, lambda: None),))
    with pytest.raises(ValueError, match="declared twice"):
        config_model([*AREAS, twice])
    assert issubclass(config_model(AREAS), SharedSections)


def test_loading_the_config_imports_no_heavy_library() -> None:
    """A meter-only site never loads bleak, aiobmsble or pymodbus: areas load them lazily."""
    code = (
        "import sys, gridwatch.config, gridwatch.app;"
        "print(sorted(m for m in ('bleak', 'aiobmsble', 'pymodbus', 'tinytuya', 'telegram')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
