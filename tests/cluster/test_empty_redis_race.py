"""Redis comes back empty while a document is open on one server, and another server opens
the document before the first one shared its copy again (here the first is paused for that
moment: a race of half a second otherwise). Both must still end up in one document: what
either side's users type reaches the other side and the file.

Not so yet (xfail): the second server, finding no state and a free lease, loads the file and
shares a new history (another lineage); the first one's reconcile refuses to merge it, at
every turn of its keeper, for as long as the room is open.
"""

from __future__ import annotations

import signal

import pytest

from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, sees, type_interleaved

NAME = "notes.txt"


@pytest.mark.xfail(
    strict=True,
    reason="not fixed: the second server starts a new history from the file; the first finds "
    "another lineage in Redis and never levels again (reconcile.py logs 'holds another "
    "history'): each side's edits stay on its side, and the first side's never reach the file",
)
async def test_a_room_opened_elsewhere_while_redis_came_back_empty_is_one_document(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    before = markers("a", 5)
    type_interleaved((alice, before))
    await file_holds(cluster, NAME, before, 5)

    assert first.process is not None
    first.process.send_signal(signal.SIGSTOP)
    try:
        cluster.redis.kill()
        cluster.redis.start()  # same port, empty
        carol = await cluster.open(second, NAME)  # before the first server shares it again
    finally:
        first.process.send_signal(signal.SIGCONT)
    await sees(carol, before, 5, "Carol (second server) to see what the file holds")

    typed_a, typed_c = markers("x", 5), markers("c", 5)
    type_interleaved((alice, typed_a), (carol, typed_c))
    everything = before + typed_a + typed_c
    await everyone_sees([alice, carol], everything, 10)
    await file_holds(cluster, NAME, everything, 10)
