"""The contract between `gridwatch demo` and each area's simulators.

A demo part starts its simulators (registering their shutdown on ``stack``), returns the config
rewritten to point at them, and the lines to print so a user knows where to look. Simulators read
"now" from ``clock``, the exporter's own, so `gridwatch demo --at` and tests can pick the instant.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from gridwatch.config import Config
from gridwatch.core.clock import Clock

DemoPart = Callable[[Config, contextlib.AsyncExitStack, Clock], Awaitable[tuple[Config, list[str]]]]
