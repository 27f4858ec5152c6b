"""The contract between `gridwatch demo` and each area's simulators.

A demo part starts its simulators (registering their shutdown on ``stack``), returns the config
rewritten to point at them, and the lines to print so a user knows where to look.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from gridwatch.config import Config

DemoPart = Callable[[Config, contextlib.AsyncExitStack], Awaitable[tuple[Config, list[str]]]]
