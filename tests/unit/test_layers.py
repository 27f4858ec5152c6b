"""The core knows no area: no module under gridwatch/core imports an area, the energy
accounting, the receiver, the simulators or the area list (read from the source, not run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gridwatch

CORE = Path(gridwatch.__file__).parent / "core"
FORBIDDEN = (
    "gridwatch.sources",
    "gridwatch.energy",
    "gridwatch.receiver",
    "gridwatch.sim",
    "gridwatch.areas",
    "gridwatch.app",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_core_imports_no_area() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 5  # the walk found the core
    offending = {
        f"{path.relative_to(CORE.parent)}: {name}"
        for path in modules
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offending, sorted(offending)


def test_relative_imports_cannot_hide_an_area() -> None:
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
        assert not relative, f"{path}: use absolute imports so the layer check sees them"


def test_a_reason_no_area_declared_is_refused() -> None:
    import gridwatch.areas  # noqa: F401 (declares the areas)
    from gridwatch.core.source import SourceError, known_reasons

    assert "unknown_queue" in known_reasons()  # the outages area's own, declared on its Area
    with pytest.raises(ValueError, match="unknown source error reason 'pebkac'"):
        SourceError("pebkac", "made up")
