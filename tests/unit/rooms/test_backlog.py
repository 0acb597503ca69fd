"""rooms/backlog.py with peers on a fake transport: the budget sheds the largest backlogs first, the
watch drops a peer that flushed nothing for the timeout and keeps one that flushes a little."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_ycollab.rooms.backlog import Backlogs
from jupyter_ycollab.rooms.peer import Peer


class FakeConnection:
    """Frames stay queued until ``flush``; ``flushed`` is what the socket took so far."""

    def __init__(self) -> None:
        self.queued: list[asyncio.Future[None]] = []
        self.flushed = 0
        self.closed_with: int | None = None
        self.abandoned = False

    def send_frame(self, frame: bytes) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queued.append(future)
        return future

    def flush_one(self) -> None:
        self.queued.pop(0).set_result(None)

    def close(self, code: int, reason: str) -> None:
        self.closed_with = code

    def abandon(self) -> None:
        self.abandoned = True
        for future in self.queued:
            future.set_exception(ConnectionError("closed"))
        self.queued.clear()

    def bytes_flushed(self) -> int:
        return self.flushed


def peer_with(backlogs: Backlogs, *sizes: int) -> tuple[Peer, FakeConnection]:
    connection = FakeConnection()
    peer = Peer(connection, backlogs=backlogs, max_buffer=1 << 30)
    for size in sizes:
        peer.send(bytes(size))
    return peer, connection


async def settle() -> None:
    """Let the futures' done-callbacks run (they are scheduled, not called)."""
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("backlogs", "budget", "dropped"),
    [
        ([5, 3, 1], 9, []),  # exactly the budget: nobody goes
        ([5, 3, 2], 9, [0]),  # one byte over: the largest goes, which is enough
        ([4, 4, 4], 5, [0, 1]),  # equal backlogs: the earliest first, until within
        ([1, 1, 20], 10, [2]),  # the largest, though it came last
    ],
)
async def test_the_budget_drops_the_largest_backlogs_until_within_it(
    backlogs: list[int], budget: int, dropped: list[int]
) -> None:
    tracked = Backlogs(budget, stall_timeout=60)
    peers = [peer_with(tracked, size) for size in backlogs]
    assert [index for index, (peer, _) in enumerate(peers) if peer.closed] == dropped
    for index in dropped:
        connection = peers[index][1]
        assert connection.closed_with == 1013 and connection.abandoned
    kept = [peer.pending_bytes for peer, _ in peers if not peer.closed]
    assert tracked.total == sum(kept) <= budget
    await settle()  # the dropped peers' frames fail: counted once, when they were dropped
    assert tracked.total == sum(kept)
    tracked.stop()


async def test_flushed_frames_leave_the_total_and_an_empty_backlog_leaves_the_watch() -> None:
    tracked = Backlogs(100, stall_timeout=60)
    peer, connection = peer_with(tracked, 10, 20)
    assert (tracked.total, len(tracked)) == (30, 1)
    connection.flush_one()
    await settle()
    assert (tracked.total, len(tracked), peer.pending_bytes) == (20, 1, 20)
    connection.flush_one()
    await settle()
    assert (tracked.total, len(tracked)) == (0, 0)
    tracked.stop()


async def test_the_watch_drops_a_stuck_peer_and_keeps_one_that_reads_a_little() -> None:
    # 1 s: the slow peer reads every 20 ms, but a loaded CI machine once paused this process
    # for more than the 0.2 s this test had, and the watch, due first, saw it read nothing.
    tracked = Backlogs(1 << 30, stall_timeout=1.0)
    stuck, _ = peer_with(tracked, 1000)
    slow, slow_connection = peer_with(tracked, 1000)
    deadline = asyncio.get_running_loop().time() + 10
    while not stuck.closed:
        slow_connection.flushed += 1  # a byte at a time of its one big frame
        await asyncio.sleep(0.02)
        assert asyncio.get_running_loop().time() < deadline, "the stuck peer was kept"
    assert stuck.close_code == 1013
    assert not slow.closed
    assert tracked.total == 1000
    tracked.stop()
