"""Requests so malformed that aiohttp refuses them before any handler runs (an oversized header
or URL, a bad request line): one WARNING line, at most once a minute, instead of aiohttp's ERROR
with a traceback for each. Anyone who can reach the port can send them, authenticated or not,
so logging each in full would let a stranger fill the disk and hide real errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp.http_exceptions import HttpProcessingError

SERVER_LOGGER = "aiohttp.server"
EVERY_SECONDS = 60.0


class MalformedRequestFilter(logging.Filter):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._last: float | None = None
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True  # anything else aiohttp logs is ours to see in full
        now = self._clock()
        if self._last is not None and now - self._last < EVERY_SECONDS:
            self._suppressed += 1
            return False
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        more = f" ({self._suppressed} more since the last such line)" if self._suppressed else ""
        record.msg = "refused a malformed request from %s: %s%s"
        record.args = (remote, f"{exc.code} {exc.message}"[:200], more)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        self._last, self._suppressed = now, 0
        return True


def quiet_malformed_requests() -> None:
    """Install the filter on aiohttp's server logger (once per process)."""
    logger = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(f, MalformedRequestFilter) for f in logger.filters):
        logger.addFilter(MalformedRequestFilter())
