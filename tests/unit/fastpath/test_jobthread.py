"""fastpath/jobthread.py: calls run one at a time in their own thread, urgent ones before
background ones,
a call whose caller gave up before its turn never runs, and the owner hears when it idles."""

from __future__ import annotations

import asyncio
import threading

import pytest

from jupyter_ycollab.fastpath.jobthread import BACKGROUND, URGENT, JobThread

from ...client import wait_until


async def _blocked(jobs: JobThread) -> tuple[threading.Event, asyncio.Task[None]]:
    """Keep the thread busy until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(30)

    task = asyncio.ensure_future(jobs.run(URGENT, block))
    await wait_until(started.is_set, 10, "the blocking call to start")
    return release, task


async def test_urgent_calls_overtake_queued_background_calls() -> None:
    jobs, order = JobThread("test", lambda: None, 60.0), []
    release, blocker = await _blocked(jobs)
    background = asyncio.ensure_future(jobs.run(BACKGROUND, lambda: order.append("digest")))
    urgent = asyncio.ensure_future(jobs.run(URGENT, lambda: order.append("save")))
    await asyncio.sleep(0)  # both queued behind the blocking call
    release.set()
    await asyncio.gather(blocker, background, urgent)
    assert order == ["save", "digest"]
    await jobs.stop(lambda: None)


async def test_a_call_cancelled_before_its_turn_never_runs() -> None:
    jobs, ran = JobThread("test", lambda: None, 60.0), []
    release, blocker = await _blocked(jobs)
    dropped = asyncio.ensure_future(jobs.run(BACKGROUND, lambda: ran.append("dropped")))
    await asyncio.sleep(0)
    dropped.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dropped
    release.set()
    await blocker
    await jobs.stop(lambda: ran.append("last"))
    assert ran == ["last"]


async def test_an_exception_reaches_the_caller_and_the_thread_goes_on() -> None:
    jobs = JobThread("test", lambda: None, 60.0)
    with pytest.raises(ZeroDivisionError):
        await jobs.run(URGENT, lambda: 1 // 0)
    assert await jobs.run(URGENT, lambda: 2) == 2
    await jobs.stop(lambda: None)


async def test_the_owner_hears_once_per_idle_spell_in_the_thread() -> None:
    idle: list[str] = []
    jobs = JobThread("test", lambda: idle.append(threading.current_thread().name), 0.05)
    await jobs.run(URGENT, lambda: None)
    await wait_until(lambda: idle == ["test"], 10, "the idle callback")
    assert await jobs.run(URGENT, lambda: 3) == 3  # told again only after another call
    await wait_until(lambda: len(idle) == 2, 10, "the second idle callback")
    await jobs.stop(lambda: None)
    assert idle == ["test", "test"]
