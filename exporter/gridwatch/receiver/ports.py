"""The seams between the receiver's core (webhook, outbox, worker) and its integrations.

The core knows only these protocols, so Telegram and Tuya are each one module to test on their own
against their fake peers, and the worker is tested with both real integrations plugged in.
"""

from __future__ import annotations

from collections.abc import MutableSet, Sequence
from typing import Literal, Protocol

from gridwatch.receiver.model import Alert, Notification, PlugResult, PlugState

# Why work was dead-lettered (a bounded metric label): the peer refused it for good, it could
# not be rendered (it never will be), or it was still undelivered after retry_max_age.
DeadReason = Literal["refused", "render", "expired"]
DEAD_REASONS: tuple[DeadReason, ...] = ("refused", "render", "expired")


class DeliveryError(Exception):
    """A delivery that failed. ``retryable`` work stays in the outbox and is tried again later,
    no sooner than ``retry_after`` seconds when the peer said so (Telegram 429). Work that is
    not retryable is dead-lettered at once, for ``reason``."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        reason: DeadReason = "refused",
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.reason: DeadReason = reason


class Notifier(Protocol):
    """Sends one notification (with the plug results of its actions) to every configured chat."""

    @property
    def targets(self) -> tuple[str, ...]:
        """The independent destinations (chats). The worker keeps one ordered lane per target,
        so one chat's failure never delays another's messages."""
        ...

    @property
    def problem(self) -> str | None:
        """What currently keeps delivery from working (e.g. a rejected bot token), for
        /healthz; None when the last attempt worked."""
        ...

    async def notify(
        self,
        notification: Notification,
        plugs: Sequence[PlugResult],
        progress: MutableSet[str] | None = None,
        target: str | None = None,
    ) -> None:
        """Send to ``target`` (every target when None). Raise DeliveryError on failure.
        ``progress`` holds what was already delivered (the worker's persists across restarts):
        the notifier adds each part it sends and skips the parts in it, so a retry never sends
        a chat the same message twice."""
        ...


class PlugActions(Protocol):
    """Load shedding: which plugs an alert switches, and doing it."""

    def plan(self, alert: Alert) -> list[tuple[str, bool]]:
        """The (plug, on) switches this alert asks for, in order; empty when no rule matches."""
        ...

    async def switch(self, plug: str, on: bool) -> PlugResult:
        """Switch one plug; never raises for device trouble (offline/error are results). When
        switching off, ``was_on`` of the result is the state before, if the plug could say:
        the worker remembers it, so a restore leaves a plug off that was off before."""
        ...

    @property
    def stagger_seconds(self) -> float:
        """Pause between plugs switched back on, so they do not all start at one instant."""
        ...

    async def states(self) -> list[PlugState]:
        """Every configured plug's state, for /status and /plugs."""
        ...
