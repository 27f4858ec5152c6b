"""Is the grid up? Debounced per signal, combined over signals, with the time of the last change.

A signal is one device that can see mains: an inverter (input voltage and frequency) or a P1
meter (phase voltages). A signal's state changes only after ``consecutive_polls`` successful
polls agree; a failed poll makes the signal unknown and restarts the count, it never means
"down". The site's grid state combines the known signals (``any``: up if one sees mains).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from gridwatch.core.statedb import StateDB

log = logging.getLogger(__name__)

NAMESPACE = "grid"
_KEY = "combined"


@dataclass(slots=True)
class Debounce:
    needed: int
    state: bool | None = None  # the confirmed state (None until N polls agreed)
    since: float | None = None  # when the confirmed state was first seen
    known: bool = False  # False after a failed poll, until the next successful one
    last_seen: dict[bool, float] = field(default_factory=dict)  # last poll that saw up / down
    _candidate: bool | None = None
    _streak: int = 0
    _streak_start: float = 0.0

    def observe(self, present: bool, at: float) -> bool:
        """One successful poll; True when it confirmed a new state."""
        self.known = True
        self.last_seen[present] = at
        if present == self.state:
            self._candidate, self._streak = None, 0
            return False
        if present != self._candidate:
            self._candidate, self._streak, self._streak_start = present, 0, at
        self._streak += 1
        if self._streak < self.needed:
            return False
        self.state, self.since = present, self._streak_start
        self._candidate, self._streak = None, 0
        return True

    def fail(self) -> None:
        """A failed poll: unknown now, and the run of agreeing polls starts over."""
        self.known = False
        self._candidate, self._streak = None, 0

    @property
    def current(self) -> bool | None:
        return self.state if self.known else None


class GridTracker:
    """All grid signals of the site and their combination; persists the last change."""

    def __init__(
        self,
        consecutive_polls: int,
        combine: str = "any",
        db: Callable[[], StateDB] | None = None,
    ) -> None:
        self._needed = consecutive_polls
        self._combine = combine
        self._db = db
        self.signals: dict[tuple[str, str], Debounce] = {}
        self.state: bool | None = None  # the last known combined state (kept while unknown)
        self.changed_at: float | None = None
        self._restored = False

    def add_signal(self, source: str, device: str) -> None:
        self.signals.setdefault((source, device), Debounce(self._needed))

    def observe(self, source: str, device: str, present: bool | None, at: float) -> None:
        """A successful poll of a signal; ``present`` None means it could not tell (unknown)."""
        signal = self.signals.setdefault((source, device), Debounce(self._needed))
        if present is None:
            signal.fail()
        elif signal.observe(present, at):
            log.debug("grid signal %s/%s: %s", source, device, "up" if present else "down")
        self._update()

    def fail(self, source: str, device: str) -> None:
        signal = self.signals.setdefault((source, device), Debounce(self._needed))
        was_known = signal.known
        signal.fail()
        if was_known:
            self._update()

    @property
    def up(self) -> bool | None:
        """The combined state now, or None when no signal is known."""
        known = [s for s in self.signals.values() if s.current is not None]
        if not known:
            return None
        votes = [bool(s.current) for s in known]
        return any(votes) if self._combine == "any" else all(votes)

    def _update(self) -> None:
        self._restore()
        now = self.up
        if now is None or now == self.state:
            return
        if self.state is not None:
            # The change happened when the deciding signal first saw its new state: under
            # "any", the first to see mains return, or the last to lose it (mirrored for "all")
            # — but not before another device last saw the old state (e.g. a P1 meter that saw
            # the grid until it went dark, while the inverter's input was off all along).
            deciding = [s.since for s in self.signals.values() if s.current is now and s.since]
            pick = min if now == (self._combine == "any") else max
            before = not now
            old = [s.last_seen[before] for s in self.signals.values() if before in s.last_seen]
            candidates = [pick(deciding)] if deciding else []
            self.changed_at = max(candidates + old) if candidates or old else None
        # else: the first state ever known; when it began is unknown, so no change time yet.
        self.state = now
        log.info("grid is %s", "up" if now else "down")
        self._persist()

    # Persistence ---------------------------------------------------------------------------

    def _restore(self) -> None:
        if self._restored:
            return
        self._restored = True
        if self._db is None:
            return
        try:
            saved = self._db().get(NAMESPACE, _KEY)
        except Exception as exc:  # a broken state file must not stop grid tracking
            log.warning("cannot read the grid state from the state file: %s", exc)
            return
        if isinstance(saved, dict) and isinstance(saved.get("up"), bool):
            self.state = saved["up"]
            changed = saved.get("changed_at")
            self.changed_at = float(changed) if isinstance(changed, int | float) else None

    def _persist(self) -> None:
        if self._db is None:
            return
        try:
            self._db().put(NAMESPACE, _KEY, {"up": self.state, "changed_at": self.changed_at})
        except Exception as exc:
            log.warning("cannot save the grid state to the state file: %s", exc)
