"""cancel_and_wait: a stopped component's task has really ended, and the caller goes on."""

from __future__ import annotations

import asyncio

from gridwatch.core.tasks import cancel_and_wait


async def test_the_task_has_ended_and_ran_its_cleanup_when_the_call_returns() -> None:
    started, cleaned = asyncio.Event(), asyncio.Event()

    async def worker() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # forever, until cancelled
        finally:
            cleaned.set()

    task = asyncio.create_task(worker())
    await started.wait()
    await cancel_and_wait(task)
    assert task.cancelled() and cleaned.is_set()


async def test_no_task_and_a_finished_task_are_nothing_to_do() -> None:
    await cancel_and_wait(None)
    done = asyncio.create_task(asyncio.sleep(0, result=7))
    await done
    await cancel_and_wait(done)
    assert done.result() == 7
