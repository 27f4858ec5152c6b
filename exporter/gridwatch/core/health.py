"""Health of one source: up/down, last success, last error, error counts by reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

from gridwatch.core.source import SourceError, SourceKey


class Transition(Enum):
    NONE = "none"
    UP = "up"  # first success, or recovery after a failure
    DOWN = "down"  # first failure, or a different reason than the previous failure


@dataclass(slots=True)
class SourceHealth:
    key: SourceKey
    staleness: float
    up: bool | None = None  # None until the first attempt finished
    last_success: float | None = None
    last_error_at: float | None = None
    last_error_reason: str | None = None
    last_error_message: str | None = None
    down_since: float | None = None
    poll_duration: float | None = None
    updates: int = 0
    push_connected: bool | None = None
    errors: Counter[str] = field(default_factory=Counter)

    def record_success(self, now: float, duration: float | None) -> Transition:
        transition = Transition.NONE if self.up else Transition.UP
        self.up = True
        self.last_success = now
        self.down_since = None
        self.updates += 1
        if duration is not None:
            self.poll_duration = duration
        return transition

    def record_failure(self, now: float, error: SourceError, duration: float | None) -> Transition:
        same = self.up is False and self.last_error_reason == error.reason
        if self.up is not False:
            self.down_since = now
        self.up = False
        self.errors[error.reason] += 1
        self.last_error_at = now
        self.last_error_reason = error.reason
        self.last_error_message = error.message
        if duration is not None:
            self.poll_duration = duration
        return Transition.NONE if same else Transition.DOWN
