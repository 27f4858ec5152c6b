"""How `make test` spreads the suite over workers (pytest-xdist, ``--dist loadgroup``).

Each module stays whole on one worker, so its module-scoped simulators start once. The modules
that run `gridwatch demo` share one worker: the demo prefers fixed ports (9090, 9093, 9864,
3000) when they are free, and two demos starting at once on two workers could both find one
free and then collide.
"""

from __future__ import annotations

import pytest

DEMO_PORTS = "demo-ports"
DEMO_MODULES = frozenset(
    {
        "test_children",
        "test_cli",
        "test_demo_grafana",
        "test_demo_lifecycle",
        "test_demo_sockets",
        "test_inverter_pi30_demo",
        "test_homewizard_devices",
        "test_deye_probe_demo",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        module = path.rsplit("/", 1)[-1].removesuffix(".py")
        item.add_marker(pytest.mark.xdist_group(DEMO_PORTS if module in DEMO_MODULES else path))
