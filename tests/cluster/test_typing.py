"""Twenty seconds of typing split over two servers, autosave on: nothing lost, nothing doubled,
and the file written about once per save, every time by the same server (the lease holder).

Saves are told apart by server from each server's log (a session event ``save`` per write of
the file, at DEBUG); the writes themselves are counted by the kernel (tests/fswatch.py): no more
of them than saves, so no server writes the file behind the lease's back.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from ..fswatch import WriteCounter
from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, type_markers, writes_settle

NAME = "notes.txt"
SECONDS = 20.0
PACE = 0.2  # one marker per person every 0.2 s: 100 each, crossing on the wire
MAX_WAIT = 2.0  # typing never stops for the 1 s save delay: a save every 2 s (max_save_delay)


def saves_logged(log: str) -> int:
    """How many times a server's log says it saved the file."""
    return len(re.findall(rf"{re.escape(NAME)}: save\b", log))


@pytest.mark.alone
async def test_twenty_seconds_of_typing_on_two_servers_lose_nothing_and_one_server_writes(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2, debug=True, save_delay=1.0, max_save_delay=MAX_WAIT)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)
    writes = WriteCounter(cluster.root)
    count = int(SECONDS / PACE)
    ours, theirs = markers("a", count), markers("b", count)
    try:
        await asyncio.gather(type_markers(alice, ours, PACE), type_markers(bob, theirs, PACE))
        await everyone_sees([alice, bob], ours + theirs, 10)
        await file_holds(cluster, NAME, ours + theirs, 10)
        written = await writes_settle(writes, NAME)
    finally:
        writes.close()
    assert cluster.on_disk(NAME) == alice.view() == bob.view()

    saves = [saves_logged(server.log()) for server in (first, second)]
    assert 0 in saves, f"both servers saved {NAME}: {saves} saves"
    # One save burst every max_save_delay: about 10 saves, not 20 (one per server per burst).
    bursts = SECONDS / MAX_WAIT
    assert 0 < sum(saves) <= bursts + 3, f"{sum(saves)} saves in {SECONDS} s of typing"
    assert written <= sum(saves), f"{written} writes of {NAME} for {sum(saves)} saves"
