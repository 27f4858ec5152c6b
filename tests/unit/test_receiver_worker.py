"""The worker over a real outbox: switches then message, retries, dead letters, restarts.

Telegram and Tuya are stood in for by recording implementations of our own seams; a fake clock
makes backoff and retry_after exact without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest

from gridwatch.core.statedb import StateDB
from gridwatch.receiver.metrics import ReceiverStats
from gridwatch.receiver.model import PlugResult
from gridwatch.receiver.outbox import Outbox
from gridwatch.receiver.payload import parse_notification
from gridwatch.receiver.ports import DeliveryError
from gridwatch.receiver.worker import RetryPolicy, Worker
from gridwatch.sim.polling import wait_until
from tests.receiver_fakes import FakeClock, RecordingNotifier, RecordingPlugs, am_payload, griddown

POLICY = RetryPolicy(initial=2.0, maximum=60.0, max_age=3600.0, jitter=0.2)


class Rig:
    """A worker, its outbox file and recorders; ``restart()`` reopens it as a new process would."""

    def __init__(self, path: Path, notifier: RecordingNotifier, plugs: RecordingPlugs) -> None:
        self.path = path
        self.clock = FakeClock()
        self.notifier = notifier
        self.notifier.clock = self.clock
        self.plugs = plugs
        self.stats = ReceiverStats()
        self._open()

    def _open(self) -> None:
        self.db = StateDB(self.path)
        self.outbox = Outbox(self.db)
        self.worker = Worker(
            self.outbox,
            self.stats,
            notifier=self.notifier,
            plugs=self.plugs,
            policy=POLICY,
            clock=self.clock,
            sleep=self.clock.sleep,
            rng=lambda: 0.0,
        )

    def post(self, data: dict[str, object]) -> int:
        job = self.outbox.accept(parse_notification(data), self.clock()).job_id
        assert job is not None
        return job

    def restart(self, notifier: RecordingNotifier, plugs: RecordingPlugs) -> None:
        self.db.close()
        self.notifier, self.plugs = notifier, plugs
        notifier.clock = self.clock
        self._open()


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path / "receiver.db", RecordingNotifier(), RecordingPlugs(offline={"heater"}))


async def test_grid_down_switches_off_then_reports_each_plug(rig: Rig) -> None:
    rig.post(griddown())
    assert await rig.worker.run_once() is None
    assert rig.plugs.switched == [("boiler", False), ("heater", False), ("pump", False)]
    assert rig.clock.sleeps == []  # shedding is immediate; only switching on is staggered
    [(notification, results)] = rig.notifier.delivered
    assert notification.alerts[0].name == "GridDown" and notification.status == "firing"
    assert [(r.plug, r.on, r.outcome) for r in results] == [
        ("boiler", False, "ok"),
        ("heater", False, "offline"),
        ("pump", False, "ok"),
    ]
    assert rig.stats.plug_switches == {"ok": 2, "offline": 1}
    assert rig.stats.deliveries == {"delivered": 1}
    assert rig.outbox.counts["done"] == 1 and rig.outbox.counts["pending"] == 0


async def test_restore_switches_on_one_by_one_with_the_stagger(rig: Rig) -> None:
    rig.post(griddown("resolved"))
    await rig.worker.run_once()
    assert rig.plugs.switched == [("boiler", True), ("heater", True), ("pump", True)]
    assert rig.clock.sleeps == [5.0, 5.0]
    assert rig.notifier.delivered[0][0].status == "resolved"


async def test_alerts_without_a_rule_only_send_the_message(rig: Rig) -> None:
    rig.post(am_payload("am0.25_webhook_v4_firing_truncated.json"))
    await rig.worker.run_once()
    assert rig.plugs.switched == []
    [(notification, results)] = rig.notifier.delivered
    assert len(notification.alerts) == 2 and results == []


async def test_telegram_down_then_up_is_delivered_once_and_never_delays_the_plugs(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "gridwatch.receiver")
    down = DeliveryError("telegram unreachable (connection refused)", retryable=True)
    rig.notifier.failures = [down, down, down]
    start = rig.clock()
    rig.post(griddown())
    due = await rig.worker.run_once()
    assert len(rig.plugs.switched) == 3  # shed although the message failed
    waits = []
    while due is not None:
        waits.append(due - rig.clock())
        rig.clock.now = due
        due = await rig.worker.run_once()
    assert waits == [2.0, 4.0, 8.0]  # exponential, from retry_initial
    assert rig.notifier.attempt_times == [start, start + 2, start + 6, start + 14]
    assert len(rig.notifier.delivered) == 1 and len(rig.plugs.switched) == 3
    assert rig.stats.retries == 3 and rig.stats.deliveries == {"delivered": 1}
    failures = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING, logging.DEBUG, logging.DEBUG]


async def test_retry_after_is_honoured(rig: Rig) -> None:
    rig.notifier.failures = [DeliveryError("429", retryable=True, retry_after=30.0)]
    start = rig.clock()
    rig.post(griddown())
    assert await rig.worker.run_once() == start + 30.0
    rig.clock.now = start + 29.9
    assert await rig.worker.run_once() == start + 30.0
    assert len(rig.notifier.attempts) == 1  # not a moment before the peer allowed
    rig.clock.now = start + 30.0
    assert await rig.worker.run_once() is None
    assert rig.notifier.attempt_times == [start, start + 30.0]
    assert len(rig.notifier.delivered) == 1


def test_backoff_is_capped_and_jitter_only_lengthens() -> None:
    assert [POLICY.delay(n, None, 0.0) for n in (1, 2, 3, 6, 7, 50)] == [2, 4, 8, 60, 60, 60]
    assert POLICY.delay(3, None, 1.0) == pytest.approx(8 * 1.2)
    assert POLICY.delay(1, 45.0, 0.0) == 45.0  # retry_after beats the backoff either way
    assert POLICY.delay(9, 1.0, 0.5) == pytest.approx(1.1)
    assert POLICY.delay(1, 0.0, 0.0) == 2.0  # a zero retry_after means "use your own"


async def test_a_message_that_can_never_succeed_is_dead_lettered_and_the_next_goes_out(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.notifier.failures = [DeliveryError("400 Bad Request: chat not found", retryable=False)]
    first = rig.post(griddown())
    rig.post(griddown("resolved"))
    assert await rig.worker.run_once() is None
    assert len(rig.notifier.attempts) == 2
    assert [n.status for n, _ in rig.notifier.delivered] == ["resolved"]
    assert rig.stats.deliveries == {"dead_lettered": 1, "delivered": 1}
    assert rig.outbox.counts == {"pending": 0, "done": 1, "dead": 1}
    job = rig.outbox.job(first)
    assert job is not None and "chat not found" in job.last_error
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "dead-lettered" in errors[0].getMessage()


async def test_work_older_than_the_max_age_is_given_up(rig: Rig) -> None:
    rig.notifier.failures = [DeliveryError("502", retryable=True)] * 100
    rig.post(griddown())
    due = await rig.worker.run_once()
    while due is not None:
        rig.clock.now = due
        due = await rig.worker.run_once()
    assert rig.stats.deliveries == {"dead_lettered": 1}
    assert rig.notifier.delivered == []
    # The last try came before the hour was up; none after it.
    assert rig.notifier.attempt_times[-1] - rig.notifier.attempt_times[0] <= 3600
    assert len(rig.notifier.attempts) == 1 + rig.stats.retries


async def test_messages_keep_their_order_while_one_waits(rig: Rig) -> None:
    rig.notifier.failures = [DeliveryError("429", retryable=True, retry_after=10.0)]
    rig.post(griddown())
    rig.post(griddown("resolved"))
    await rig.worker.run_once()
    # Both jobs' plugs switched; the restore message waits behind the loss message.
    assert [on for _, on in rig.plugs.switched] == [False] * 3 + [True] * 3
    assert rig.notifier.delivered == []
    rig.clock.now += 10
    await rig.worker.run_once()
    assert [n.status for n, _ in rig.notifier.delivered] == ["firing", "resolved"]


async def test_a_notifier_bug_is_retried_not_lost(rig: Rig) -> None:
    rig.notifier.failures = [RuntimeError("template broke")]
    rig.post(griddown())
    due = await rig.worker.run_once()
    assert due is not None and rig.outbox.counts["pending"] == 1
    rig.clock.now = due
    await rig.worker.run_once()
    assert len(rig.notifier.delivered) == 1


async def test_restart_mid_switching_resumes_and_delivers_once(rig: Rig) -> None:
    rig.plugs.block_on = "heater"  # the process stops while this plug is being switched
    rig.post(griddown())
    task = asyncio.create_task(rig.worker.run_once())
    for _ in range(100):
        await asyncio.sleep(0)
        if len(rig.plugs.switched) == 2:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Load shedding switches all plugs at once: the others finished, the heater hangs.
    assert rig.plugs.switched == [("boiler", False), ("pump", False)]
    assert rig.notifier.attempts == []

    notifier, plugs = RecordingNotifier(), RecordingPlugs()
    rig.restart(notifier, plugs)
    await rig.worker.run_once()
    assert plugs.switched == [("heater", False)]  # boiler and pump were done before
    [(_, results)] = notifier.delivered
    assert [r.plug for r in results] == ["boiler", "heater", "pump"]
    assert rig.outbox.counts["pending"] == 0

    rig.restart(RecordingNotifier(), RecordingPlugs())
    await rig.worker.run_once()
    assert rig.notifier.attempts == [] and rig.plugs.switched == []  # nothing twice


async def test_restart_while_waiting_to_retry_keeps_the_schedule(rig: Rig) -> None:
    rig.notifier.failures = [DeliveryError("429", retryable=True, retry_after=20.0)]
    start = rig.clock()
    rig.post(griddown())
    await rig.worker.run_once()
    notifier = RecordingNotifier()
    rig.restart(notifier, RecordingPlugs())
    assert await rig.worker.run_once() == start + 20.0
    assert notifier.attempts == [] and rig.plugs.switched == []
    rig.clock.now = start + 20.0
    await rig.worker.run_once()
    assert len(notifier.delivered) == 1
    [(_, results)] = notifier.delivered
    assert [r.outcome for r in results] == ["ok", "offline", "ok"]  # from before the restart


async def test_a_switch_that_raises_or_hangs_is_an_error_result(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gridwatch.receiver.worker.SWITCH_GUARD_SECONDS", 0.05)

    async def broken(plug: str, on: bool) -> PlugResult:
        if plug == "boiler":
            raise OSError("socket closed")
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(rig.plugs, "switch", broken)
    rig.post(griddown())
    await rig.worker.run_once()
    [(_, results)] = rig.notifier.delivered
    assert [(r.plug, r.outcome) for r in results] == [
        ("boiler", "error"),
        ("heater", "offline"),
        ("pump", "offline"),
    ]


async def test_without_integrations_jobs_complete(tmp_path: Path) -> None:
    outbox = Outbox(StateDB(tmp_path / "receiver.db"))
    worker = Worker(outbox, ReceiverStats(), notifier=None, plugs=None)
    outbox.accept(parse_notification(griddown()), 0.0)
    await worker.run_once()
    assert outbox.counts == {"pending": 0, "done": 1, "dead": 0}


async def test_the_loops_pick_up_new_work_when_woken(tmp_path: Path) -> None:
    outbox = Outbox(StateDB(tmp_path / "receiver.db"))
    notifier, plugs = RecordingNotifier(), RecordingPlugs(stagger=0.0)
    worker = Worker(outbox, ReceiverStats(), notifier=notifier, plugs=plugs)
    task = asyncio.create_task(worker.run())
    try:
        outbox.accept(parse_notification(griddown()), 0.0)
        worker.wake()
        await wait_until(lambda: bool(notifier.delivered), timeout=10, every=0.01)
        assert len(plugs.switched) == 3
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_job_that_cannot_be_rendered_is_dead_at_once_and_holds_nothing_back(
    rig: Rig,
) -> None:
    """Issue 15, fault 1: a render failure was retried for retry_max_age, blocking every later
    message. A failure that will repeat is dead-lettered on the first try, with its reason."""
    rig.notifier.failures = [
        DeliveryError("cannot render the message: OverflowError", retryable=False, reason="render")
    ]
    poison = rig.post(griddown())
    later = rig.post(griddown("resolved"))
    assert await rig.worker.run_once() is None  # nothing waits for a retry
    assert len(rig.notifier.attempts) == 2  # tried once, then the next went out
    dead, done = rig.outbox.job(poison), rig.outbox.job(later)
    assert dead is not None and "cannot render" in dead.last_error
    assert done is not None and done.attempts == 1
    assert rig.outbox.counts == {"pending": 0, "done": 1, "dead": 1}
    assert rig.stats.dead_letters == {"render": 1}


async def test_one_chat_failing_never_delays_another_chats_messages(rig: Rig) -> None:
    """Issue 15, fault 1: a job failing for one chat held every chat's later messages."""
    rig.notifier.targets = ("family", "me")
    rig.notifier.broken["family"] = DeliveryError("sendMessage: Bad Gateway", retryable=True)
    down = rig.post(griddown())
    up = rig.post(griddown("resolved"))
    due = await rig.worker.run_once()
    # "me" got both, in order, while "family" waits for its retry of the first.
    mine = [n.status for target, n in rig.notifier.by_target if target == "me"]
    assert mine == ["firing", "resolved"]
    assert due == rig.clock() + POLICY.initial
    assert rig.outbox.counts["pending"] == 2  # both still owe the family their message
    # The family's chat recovers: its messages follow, still in their order.
    del rig.notifier.broken["family"]
    rig.clock.now = due
    assert await rig.worker.run_once() is None
    family = [n.status for target, n in rig.notifier.by_target if target == "family"]
    assert family == ["firing", "resolved"]
    assert rig.outbox.counts == {"pending": 0, "done": 2, "dead": 0}
    assert {rig.outbox.job(down).attempts, rig.outbox.job(up).attempts} == {1, 2}  # type: ignore[union-attr]


async def test_a_chat_that_refuses_is_dead_lettered_while_the_others_are_served(rig: Rig) -> None:
    rig.notifier.targets = ("gone", "me")
    rig.notifier.broken["gone"] = DeliveryError("Forbidden: bot was blocked", retryable=False)
    job = rig.post(griddown())
    assert await rig.worker.run_once() is None
    assert [t for t, _ in rig.notifier.by_target] == ["me"]
    found = rig.outbox.job(job)
    assert found is not None and "blocked" in found.last_error
    assert rig.outbox.counts["dead"] == 1 and rig.stats.dead_letters == {"refused": 1}


async def test_a_plug_off_before_the_shedding_stays_off_at_the_restore(tmp_path: Path) -> None:
    """Issue 15, fault 6: a plug switched off by hand before a grid loss came back on."""
    rig = Rig(tmp_path / "receiver.db", RecordingNotifier(), RecordingPlugs(off_by_hand={"heater"}))
    rig.post(griddown())
    await rig.worker.run_once()
    # A second shedding while the plugs are off must not make "off" their remembered state.
    rig.post(griddown(starts="2026-11-22T05:45:00Z"))
    await rig.worker.run_once()
    rig.restart(RecordingNotifier(), rig.plugs)  # the memory survives a restart
    rig.post(griddown("resolved", starts="2026-11-22T05:45:00Z"))
    await rig.worker.run_once()
    assert [s for s in rig.plugs.switched if s[1]] == [("boiler", True), ("pump", True)]
    [(_, results)] = rig.notifier.delivered
    assert [(r.plug, r.kept_off) for r in results] == [
        ("boiler", False),
        ("heater", True),
        ("pump", False),
    ]
    # The next grid loss remembers afresh: now every plug was on.
    rig.plugs.off_by_hand.discard("heater")
    rig.post(griddown(starts="2026-11-23T01:00:00Z"))
    rig.post(griddown("resolved", starts="2026-11-23T01:00:00Z"))
    await rig.worker.run_once()
    assert ("heater", True) in rig.plugs.switched


async def test_a_shedding_cut_by_a_crash_never_remembers_its_own_off(tmp_path: Path) -> None:
    """A switch-off interrupted by a crash may have acted: re-run, it reads "off", which is not
    what the plug was before the shedding. The restore must still switch it on."""
    rig = Rig(tmp_path / "receiver.db", RecordingNotifier(), RecordingPlugs(block_on="heater"))
    rig.post(griddown())
    work = asyncio.create_task(rig.worker.run_once())
    while len(rig.plugs.switched) < 2:  # boiler and pump done, heater hangs
        await asyncio.sleep(0)
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work
    # The heater did switch off before the crash; after the restart it reads "off".
    rig.restart(RecordingNotifier(), RecordingPlugs(off_by_hand={"heater"}))
    await rig.worker.run_once()
    rig.post(griddown("resolved"))
    await rig.worker.run_once()
    assert ("heater", True) in rig.plugs.switched


async def test_a_crash_after_the_last_chat_but_before_the_job_ends_is_finished_later(
    rig: Rig,
) -> None:
    """Found by the crash test: both lanes done, the job still pending after the restart."""
    rig.notifier.targets = ("family", "me")
    job = rig.post(griddown())
    await rig.worker.run_once()
    rig.db.connection.execute("UPDATE receiver_jobs SET state = 'pending' WHERE id = ?", (job,))
    rig.restart(RecordingNotifier(targets=("family", "me")), rig.plugs)
    await rig.worker.run_once()
    assert rig.outbox.counts == {"pending": 0, "done": 1, "dead": 0}
    assert rig.notifier.attempts == []  # nothing sent again
