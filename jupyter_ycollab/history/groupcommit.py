"""One commit for the update logs of every room: their waiting records are written and fsync'ed
in one worker-thread call, started by one timer and one task.

Why: each room's log committed on its own timer, in its own task and thread hop: ~0.15 ms of
CPU per commit, half of it the hop (futex wake-ups, GIL hand-offs), not the disk. With 200 rooms
edited and saved once a second that is ~600 commits a second, each waking a worker thread.
Here a record still waits at most its log's commit delay (the earliest deadline arms the
timer; a commit also takes every log due within ``TAKE_EARLY_WITHIN``, so some go early), and
a log that must be durable now (the SAVING mark before a save touches the file) commits at once.
Each log still gets its own write and fsync: they are separate files. That is why a log due
much later (records recovery can do without: logfile.py's unhurried ones) is not taken early:
it waits for its own next record, and shares its fsync.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .logfile import UpdateLog

#: A commit takes the logs due within this many seconds too: one worker-thread call for them
#: now rather than another commit just after (the default commit delay: all of its records).
TAKE_EARLY_WITHIN = 0.1


class GroupCommit:
    def __init__(self) -> None:
        self._waiting: dict[UpdateLog, float] = {}  # -> when it must be durable (loop time)
        self._writing: set[UpdateLog] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None

    def due(self, member: UpdateLog, delay: float) -> None:
        """``member`` has records that must be durable within ``delay`` seconds."""
        deadline = asyncio.get_running_loop().time() + delay
        deadline = self._waiting[member] = min(self._waiting.get(member, math.inf), deadline)
        if self._running is None:
            self._arm(deadline)

    def _arm(self, deadline: float) -> None:
        if self._timer is not None:
            if self._timer.when() <= deadline:
                return
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_at(deadline, self._start)

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._running = asyncio.create_task(self._commit(), name="update logs")

    async def _commit(self) -> None:
        """Write every member due now or soon, in one worker-thread call."""
        try:
            while any(member.rewrite_requested for member in self._waiting):
                await asyncio.sleep(0)  # one turn of the loop: the rewrite is queued then
            soon = asyncio.get_running_loop().time() + TAKE_EARLY_WITHIN
            members = [member for member, due in self._waiting.items() if due <= soon]
            for member in members:
                del self._waiting[member]
            batches = [(member, member.take()) for member in members]
            self._writing = set(members)
            failures = await asyncio.to_thread(_write_all, batches)
            for member, error in failures:
                member.failed(error)
        finally:
            self._running = None
            self._writing = set()
            if self._waiting:  # records handed in meanwhile: their own deadline, not now
                self._arm(min(self._waiting.values()))

    async def flush(self, member: UpdateLog) -> None:
        """Return once everything ``member`` handed in so far is written (or failed)."""
        while member in self._waiting or member in self._writing:
            if member in self._waiting:
                self._waiting[member] = -math.inf  # due now, however patient its records
            if self._running is None:
                self._start()
            running = self._running
            assert running is not None
            await asyncio.shield(running)  # a flusher's cancellation must not stop the others'


def _write_all(batches: list[tuple[UpdateLog, Any]]) -> list[tuple[UpdateLog, OSError]]:
    """Each member's batch; a failing disk or file fails only its own log."""
    failures = []
    for member, batch in batches:
        try:
            member.write(batch)
        except OSError as error:
            failures.append((member, error))
    return failures


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = (
    weakref.WeakKeyDictionary()
)


def group_commit() -> GroupCommit:
    """The group of the running event loop (the logs of one server share it)."""
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        group = _groups[loop] = GroupCommit()
    return group
