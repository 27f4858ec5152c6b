"""SIGTERM, SIGINT and SIGHUP stop gridwatch through its normal cleanup, from start-up on.

``gridwatch run``, ``receiver`` and ``demo`` enter ``StopSignals`` before they start anything.
A signal during start-up cancels the starting task, so what has started so far is stopped by
the same exit stack that stops a running process; a signal once running ends ``wait()``.

SIGHUP means "stop" here, not "reload": gridwatch has no reload (a changed config takes effect
at the next start), and a hang-up (a closed terminal, a dropped SSH session) would otherwise
end the process without stopping its children or flushing its state file.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import TracebackType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StopSignals:
    """``with StopSignals() as stop: <start things>; await stop.wait()`` inside a task."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._event = asyncio.Event()
        self._task: asyncio.Task[object] | None = None
        self._waiting = False
        self._cancelled = False

    def __enter__(self) -> StopSignals:
        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        # Only now: a second signal during cleanup must not kill the process half-way.
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        if self._cancelled and isinstance(exc, asyncio.CancelledError):
            assert self._task is not None
            self._task.uncancel()
            return True  # our own cancellation: start-up was stopped, not failed
        return False

    @property
    def stopping(self) -> bool:
        return self.received is not None

    async def wait(self) -> None:
        """Until a stop signal arrives (at once if one came during start-up)."""
        self._waiting = True
        await self._event.wait()

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.received is not None:
            log.info("received %s again; still stopping", sig.name)
            return
        self.received = sig
        self._event.set()
        if not self._waiting and self._task is not None:
            log.info("received %s during start-up; stopping what has started", sig.name)
            self._cancelled = True
            self._task.cancel()
        else:
            log.info("received %s; stopping", sig.name)
