"""The worker: performs the outbox's jobs — plug switches first, then the message.

Two loops share the outbox. The actions loop switches plugs as soon as a job arrives, so a
Telegram outage never delays load shedding. The notify loop keeps one lane per chat, side by
side: in each, messages go oldest first (so "grid restored" never overtakes "grid lost"), each
after its job's switches are done and reported; a retryable failure waits with exponential
backoff and jitter, never sooner than the peer's ``retry_after``, and holds back only its own
chat; a failure that cannot succeed is dead-lettered at once, work older than
``retry_max_age`` when it next fails: logged, counted by reason, kept until pruned.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gridwatch.receiver.config import ReceiverConfig
from gridwatch.receiver.lanes import Lane, Lanes
from gridwatch.receiver.metrics import ReceiverStats
from gridwatch.receiver.model import PlugResult
from gridwatch.receiver.outbox import Job, Outbox, Step
from gridwatch.receiver.plug_memory import PlugMemory
from gridwatch.receiver.ports import DeadReason, DeliveryError, Notifier, PlugActions
from gridwatch.receiver.scheduled import is_automation, is_silent, scheduled_switches

log = logging.getLogger(__name__)

# A plug integration has its own short timeouts; this only guards the worker against a hang.
SWITCH_GUARD_SECONDS = 60.0
PRUNE_EVERY_SECONDS = 600.0
LOOP_ERROR_PAUSE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial: float = 2.0
    maximum: float = 300.0
    max_age: float = 86_400.0
    jitter: float = 0.2  # up to +20 %: many receivers' retries do not line up

    @classmethod
    def from_config(cls, config: ReceiverConfig) -> RetryPolicy:
        return cls(config.retry_initial, config.retry_max, config.retry_max_age)

    def delay(self, attempt: int, retry_after: float | None, rnd: float) -> float:
        """Seconds before try ``attempt + 1`` after the ``attempt``-th failure (1-based).

        Jitter only lengthens the wait, so a peer's retry_after is always honoured."""
        if retry_after is not None and retry_after > 0:
            base = retry_after
        else:
            base = min(self.maximum, self.initial * 2 ** min(attempt - 1, 30))
        return base * (1 + self.jitter * rnd)


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Worker:
    def __init__(
        self,
        outbox: Outbox,
        stats: ReceiverStats,
        *,
        notifier: Notifier | None,
        plugs: PlugActions | None,
        policy: RetryPolicy = RetryPolicy(),
        retention: float = 172_800.0,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._outbox = outbox
        self._lanes = Lanes(outbox.db)
        self._memory = PlugMemory(outbox.db)
        self._stats = stats
        self._notifier = notifier
        self._plugs = plugs
        self._policy = policy
        self._retention = retention
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._actions_wake = asyncio.Event()
        self._notify_wake = asyncio.Event()
        self._last_prune: float | None = None

    def wake(self) -> None:
        """New work in the outbox (called by the webhook after its commit)."""
        self._actions_wake.set()
        self._notify_wake.set()

    async def run(self) -> None:
        """Both loops, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._actions_loop())
            group.create_task(self._notify_loop())

    async def run_once(self) -> float | None:
        """Everything due now; returns when the next retry is due (None: nothing waits).

        The loops are made of these; tests drive it directly with a fake clock."""
        await self.run_actions()
        return await self.run_notify()

    # -- actions ---------------------------------------------------------------------------

    async def _actions_loop(self) -> None:
        while True:
            self._actions_wake.clear()
            try:
                await self.run_actions()
                self._prune_if_due()
            except Exception:  # e.g. the state file cannot be written: keep going, retry later
                log.exception("receiver actions failed; trying again shortly")
                await asyncio.sleep(LOOP_ERROR_PAUSE_SECONDS)
                self._actions_wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._actions_wake.wait(), PRUNE_EVERY_SECONDS)

    async def run_actions(self) -> None:
        for job in self._outbox.awaiting_actions():
            await self._act(job)
            self._notify_wake.set()

    async def _act(self, job: Job) -> None:
        if not job.planned:
            self._outbox.plan(job.id, self._plan(job))
        for on, group in itertools.groupby(self._outbox.steps(job.id), key=lambda st: st.on):
            run = list(group)
            if not on:
                # Shedding load cannot wait: a run of "off" switches goes out all at once, so
                # an offline plug's connect timeouts do not hold back the others.
                await asyncio.gather(
                    *(self._switch_and_record(job, st) for st in run if not st.done)
                )
                continue
            for n, step in enumerate(run):
                if step.done:
                    continue
                if n and self._plugs is not None:  # a plug switched on just before this one
                    await self._sleep(self._plugs.stagger_seconds)
                await self._switch_and_record(job, step)
        self._outbox.actions_finished(job.id)
        if is_silent(job.notification):  # a scheduled switch without a message: done now
            self._outbox.delivered(job.id, self._clock())

    async def _switch_and_record(self, job: Job, step: Step) -> None:
        # Recorded as each one finishes: a restart mid-run switches only the unfinished ones.
        automation = is_automation(job.notification)
        if step.on and not automation and self._memory.was_on(step.plug) is False:
            # Off by hand before the load was shed: the restore leaves it as it was.
            result = PlugResult(step.plug, True, "ok", "", kept_off=True)
        elif step.on:
            result = await self._switch(step)
        else:
            interrupted = self._outbox.step_tried(job.id, step.seq) > 0
            result = await self._switch(step)
            if interrupted:  # it may have switched off before the crash: "before" is unknown
                result = dataclasses.replace(result, was_on=None)
        self._record(job, step, result, remember=not automation)

    def _record(self, job: Job, step: Step, result: PlugResult, *, remember: bool = True) -> None:
        now = self._clock()

        def memory(conn: sqlite3.Connection) -> None:
            # Only load shedding's switches are remembered for its restore; a schedule's or a
            # person's "off" is no grid loss (receiver/scheduled.py keeps their own record).
            if not remember:
                return
            if step.on:
                self._memory.restored(conn, step.plug)
            elif result.was_on is not None:
                self._memory.shed(conn, step.plug, result.was_on, now)

        self._outbox.step_done(job.id, step.seq, result, memory)
        self._stats.plug_switches[result.outcome] += 1
        if result.outcome != "ok":
            log.warning("plug %s: %s %s", step.plug, result.outcome, result.detail)

    def _plan(self, job: Job) -> list[tuple[str, bool]]:
        if self._plugs is None:
            return []
        switches: list[tuple[str, bool]] = []
        for alert in job.notification.alerts:
            scheduled = scheduled_switches(alert)
            if scheduled is not None:  # the automation's own job names its switch
                switches += scheduled
                continue
            try:
                switches += self._plugs.plan(alert)
            except Exception:  # a rule bug must not stop the message going out
                log.exception("planning plug actions for %s failed", alert.name)
        return switches

    async def _switch(self, step: Step) -> PlugResult:
        if self._plugs is None:  # planned before a restart that removed the plug config
            return PlugResult(step.plug, step.on, "error", "no plug integration configured")
        try:
            return await asyncio.wait_for(
                self._plugs.switch(step.plug, step.on), SWITCH_GUARD_SECONDS
            )
        except TimeoutError:
            return PlugResult(step.plug, step.on, "offline", "timed out")
        except Exception as exc:  # switch() promises not to raise; stay safe if it does
            log.exception("switching plug %s failed", step.plug)
            return PlugResult(step.plug, step.on, "error", type(exc).__name__)

    # -- notifications ------------------------------------------------------------------------

    async def _notify_loop(self) -> None:
        while True:
            self._notify_wake.clear()
            try:
                due = await self.run_notify()
            except Exception:
                log.exception("receiver notifications failed; trying again shortly")
                due = self._clock() + LOOP_ERROR_PAUSE_SECONDS
            timeout = None if due is None else max(0.0, due - self._clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._notify_wake.wait(), timeout)

    async def run_notify(self) -> float | None:
        """Every target's lane, side by side; returns when the earliest retry is due."""
        if self._notifier is None or not self._notifier.targets:
            while (job := self._outbox.next_to_notify()) is not None and job.actions_done:
                self._outbox.delivered(job.id, self._clock())
            return None
        # A crash between a job's last lane and the job's own end leaves it pending with
        # every lane finished (and so does a chat removed from the config): end those first.
        for job in self._outbox.awaiting_notification():
            self._finish_if_complete(job)
        dues = await asyncio.gather(*(self._run_lane(t) for t in self._notifier.targets))
        return min((due for due in dues if due is not None), default=None)

    async def _run_lane(self, target: str) -> float | None:
        # One chat's jobs strictly oldest first; a retry holds back only this chat.
        while (job_id := self._lanes.next_job(target)) is not None:
            job = self._outbox.job(job_id)
            if job is None or not job.actions_done:
                return None  # the actions loop wakes us when its switches are reported
            lane = self._lanes.get(job_id, target)
            if lane.next_attempt_at > self._clock():
                return lane.next_attempt_at
            await self._deliver(job, lane)
        return None

    async def _deliver(self, job: Job, lane: Lane) -> None:
        assert self._notifier is not None
        plugs = [step.result for step in self._outbox.steps(job.id) if step.result is not None]
        progress = self._outbox.progress(job.id)
        try:
            await self._notifier.notify(job.notification, plugs, progress, lane.target)
        except DeliveryError as exc:
            self._failed(job, lane, exc)
        except Exception as exc:  # a notifier bug while sending: retried, not lost
            if lane.attempts == 0:
                log.exception("notifier failed on job %d", job.id)
            self._failed(job, lane, DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True))
        else:
            self._lanes.finish(lane, "done")
            if lane.attempts:
                log.info(
                    "job %d delivered to %s after %d failed attempt(s)",
                    job.id,
                    lane.target,
                    lane.attempts,
                )
            self._finish_if_complete(job)

    def _failed(self, job: Job, lane: Lane, failure: DeliveryError) -> None:
        now = self._clock()
        attempt = lane.attempts + 1
        error = str(failure)
        what = f"job {job.id} ({job.notification.status} {_names(job)}) to {lane.target}"
        if not failure.retryable:
            self._dead(job, lane, failure.reason, f"not retryable: {error}")
            return
        next_at = now + self._policy.delay(attempt, failure.retry_after, self._rng())
        if next_at - job.created > self._policy.max_age:
            self._dead(job, lane, "expired", f"gave up after {attempt} attempts: {error}")
            return
        self._lanes.retry_later(lane, next_at, error)
        self._stats.retries += 1
        # Once per lane at warning; its later retries would flood the log during an outage.
        level = logging.WARNING if attempt == 1 else logging.DEBUG
        log.log(level, "%s not delivered (%s); retrying in %.0f s", what, error, next_at - now)

    def _dead(self, job: Job, lane: Lane, reason: DeadReason, error: str) -> None:
        self._lanes.finish(lane, "dead", error)
        self._stats.dead_letters[reason] += 1
        log.error("job %d (%s) to %s dead-lettered: %s", job.id, _names(job), lane.target, error)
        self._finish_if_complete(job)

    def _finish_if_complete(self, job: Job) -> None:
        assert self._notifier is not None
        lanes = self._lanes.of_job(job.id)
        finished = [lanes.get(t) for t in self._notifier.targets]
        if any(lane is None or lane.state == "pending" for lane in finished):
            return
        errors = [lane.last_error for lane in finished if lane is not None and lane.state == "dead"]
        if errors:
            self._outbox.dead(job.id, self._clock(), "; ".join(errors))
            self._stats.deliveries["dead_lettered"] += 1
        else:
            self._outbox.delivered(job.id, self._clock())
            self._stats.deliveries["delivered"] += 1

    def _prune_if_due(self) -> None:
        now = self._clock()
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        try:
            self._outbox.prune(now, self._retention)
        except Exception:
            log.exception("pruning the outbox failed")


def _names(job: Job) -> str:
    return ", ".join(sorted({a.name or "?" for a in job.notification.alerts}))
