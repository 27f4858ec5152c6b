"""The outbox: dedup keys, jobs with steps, persistence across a reopen, pruning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gridwatch.core.statedb import StateDB
from gridwatch.receiver.lanes import Lane, Lanes
from gridwatch.receiver.model import PlugResult
from gridwatch.receiver.outbox import Outbox
from gridwatch.receiver.payload import parse_notification
from tests.receiver_fakes import am_payload, griddown

NOW = 1_795_000_000.0
HOUR = 3600.0


def outbox_at(path: Path) -> Outbox:
    return Outbox(StateDB(path))


def test_duplicates_are_dropped_and_new_alerts_of_a_group_kept(tmp_path: Path) -> None:
    outbox = outbox_at(tmp_path / "receiver.db")
    firing = parse_notification(am_payload("am0.25_webhook_v4_firing_truncated.json"))

    first = outbox.accept(firing, NOW)
    assert first.job_id is not None and (first.new_alerts, first.duplicates) == (2, 0)
    again = outbox.accept(firing, NOW + 60)  # Alertmanager's retry or repeat_interval
    assert (again.job_id, again.new_alerts, again.duplicates) == (None, 0, 2)

    # The group later: inv0 resolved, inv1 still firing (same startsAt) -> only inv0 is new.
    data = am_payload("am0.25_webhook_v4_firing_truncated.json")
    data["alerts"][0]["status"] = "resolved"
    data["alerts"][0]["endsAt"] = "2026-11-22T05:45:00Z"
    mixed = outbox.accept(parse_notification(data), NOW + 120)
    assert (mixed.new_alerts, mixed.duplicates) == (1, 1)
    assert mixed.job_id is not None
    job = outbox.job(mixed.job_id)
    assert job is not None
    assert [a.labels["instance"] for a in job.notification.alerts] == ["inv0"]
    assert job.notification.status == "resolved"  # recomputed over the alerts it carries
    assert outbox.counts["pending"] == 2


def test_same_alert_to_another_receiver_or_group_is_not_a_duplicate(tmp_path: Path) -> None:
    outbox = outbox_at(tmp_path / "receiver.db")
    data = griddown()
    assert outbox.accept(parse_notification(data), NOW).new_alerts == 1
    data["receiver"] = "telegram"
    assert outbox.accept(parse_notification(data), NOW).new_alerts == 1
    data["groupKey"] = '{}/{}:{alertname="GridDown"}'
    assert outbox.accept(parse_notification(data), NOW).new_alerts == 1
    # A new episode of the same alert starts at another time: new.
    later = griddown(starts="2026-11-23T01:00:00Z")
    assert outbox.accept(parse_notification(later), NOW).new_alerts == 1
    assert outbox.accept(parse_notification(later), NOW).new_alerts == 0


def test_jobs_steps_and_dedup_keys_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "receiver.db"
    outbox = outbox_at(path)
    job_id = outbox.accept(parse_notification(griddown()), NOW).job_id
    assert job_id is not None
    outbox.plan(job_id, [("boiler", False), ("heater", False)])
    outbox.step_done(job_id, 0, PlugResult("boiler", False, "ok"))
    lanes = Lanes(outbox.db)
    lanes.retry_later(Lane(job_id, "42"), NOW + 30, "telegram: 429")

    reopened = outbox_at(path)
    job = reopened.job(job_id)
    assert job is not None and job.planned and not job.actions_done
    assert (job.attempts, job.last_error) == (1, "telegram: 429")
    lane = Lanes(reopened.db).get(job_id, "42")
    assert (lane.state, lane.attempts, lane.next_attempt_at) == ("pending", 1, NOW + 30)
    assert job.notification == parse_notification(griddown())
    steps = reopened.steps(job_id)
    assert [(s.plug, s.on, s.done) for s in steps] == [
        ("boiler", False, True),
        ("heater", False, False),
    ]
    assert steps[0].result == PlugResult("boiler", False, "ok") and steps[1].result is None
    assert reopened.accept(parse_notification(griddown()), NOW).duplicates == 1
    assert reopened.counts["pending"] == 1 and reopened.oldest_pending_created == NOW


def test_notifications_are_taken_oldest_first_and_finished_ones_leave(tmp_path: Path) -> None:
    outbox = outbox_at(tmp_path / "receiver.db")
    down = outbox.accept(parse_notification(griddown()), NOW).job_id
    up = outbox.accept(parse_notification(griddown("resolved")), NOW + 1).job_id
    assert down is not None and up is not None
    head = outbox.next_to_notify()
    assert head is not None and head.id == down
    outbox.dead(down, NOW + 2, "not retryable: chat not found")
    head = outbox.next_to_notify()
    assert head is not None and head.id == up
    outbox.delivered(up, NOW + 3)
    assert outbox.next_to_notify() is None
    assert outbox.counts == {"pending": 0, "done": 1, "dead": 1}
    assert outbox.oldest_pending_created is None


def test_prune_forgets_old_keys_and_finished_jobs_but_never_pending_work(tmp_path: Path) -> None:
    outbox = outbox_at(tmp_path / "receiver.db")
    old_done = outbox.accept(parse_notification(griddown()), NOW).job_id
    assert old_done is not None
    outbox.plan(old_done, [("boiler", False)])
    outbox.delivered(old_done, NOW)
    old_pending = outbox.accept(parse_notification(griddown("resolved")), NOW).job_id
    recent = griddown(starts="2026-11-23T01:00:00Z")
    outbox.accept(parse_notification(recent), NOW + 40 * HOUR)

    # A duplicate refreshes its key: this one was seen again 30 h later, so it is kept.
    refreshed = parse_notification(griddown("resolved"))
    assert outbox.accept(refreshed, NOW + 30 * HOUR).duplicates == 1

    assert outbox.dedup_keys() == 3
    assert outbox.prune(NOW + 50 * HOUR, 24 * HOUR) == 1  # the finished job
    assert outbox.job(old_done) is None and outbox.steps(old_done) == []
    assert outbox.job(old_pending or 0) is not None  # still to be delivered
    assert outbox.dedup_keys() == 2
    # The firing key is forgotten, but its resolution is still known: a late re-send of the
    # firing must not undo it (it would leave the plugs off).
    late = outbox.accept(parse_notification(griddown()), NOW + 50 * HOUR)
    assert (late.new_alerts, late.duplicates) == (0, 1)
    assert outbox.accept(refreshed, NOW + 50 * HOUR).duplicates == 1


def test_a_firing_after_its_own_resolution_is_not_applied(tmp_path: Path) -> None:
    """Issue 15, fault 3: resolved (X, T) then firing (X, T) left the plugs off."""
    outbox = outbox_at(tmp_path / "receiver.db")
    assert outbox.accept(parse_notification(griddown("resolved")), NOW).new_alerts == 1
    late = outbox.accept(parse_notification(griddown()), NOW + 1)
    assert (late.job_id, late.new_alerts, late.duplicates) == (None, 0, 1)
    # A new episode (another startsAt) of the same alert is of course new.
    again = outbox.accept(parse_notification(griddown(starts="2026-11-23T01:00:00Z")), NOW + 2)
    assert again.new_alerts == 1


def test_a_failed_write_leaves_nothing_half_done(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "receiver.db")
    outbox = Outbox(db)
    db.connection.execute(
        "CREATE TRIGGER fail BEFORE INSERT ON receiver_jobs "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    with pytest.raises(sqlite3.Error):
        outbox.accept(parse_notification(griddown()), NOW)
    db.connection.execute("DROP TRIGGER fail")
    # The dedup keys of the failed write were rolled back with it: the retry is accepted.
    assert outbox.accept(parse_notification(griddown()), NOW).new_alerts == 1
