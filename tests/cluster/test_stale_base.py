"""A server that takes over writing the file merges it against what the file holds as the
cluster last recorded it (``P:saved``). When that record is older than the file (Redis came
back empty, or lost the record of a save the writer made while it was down), the file holds a
save of this very document: its content is in every server's copy already, and merging it
again as an outside change doubles it.
"""

from __future__ import annotations

from pycrdt import Map

from ..client import wait_until
from .cluster import Cluster, Peer
from .markers import everyone_sees, file_holds, markers, sees, type_interleaved

NAME = "notes.txt"


def file_hash(peer: Peer) -> object:
    """The hash of the file as the document's writer last saved it (its ``state``)."""
    return peer.client.document.ydoc.get("state", type=Map).get("hash")


async def test_a_writer_taking_over_after_redis_came_back_empty_doubles_nothing(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)  # the first server to open it writes the file
    bob = await cluster.open(second, NAME)
    loaded = file_hash(bob)
    saved = markers("a", 5)
    type_interleaved((alice, saved))
    await sees(bob, saved, 5, "Bob's view (other server) to show Alice's edits live")
    await file_holds(cluster, NAME, saved, 5)  # saved by the first server
    await wait_until(lambda: file_hash(bob) != loaded, 5, "the save's hash shared")

    cluster.redis.kill()
    offline = markers("b", 5)
    type_interleaved((bob, offline))  # not in the file: only the second server holds them
    await cluster.sigkill(first)
    cluster.redis.start()  # same port, empty: the record of the first server's save is gone

    # The second server shares its copy again, takes the lease and saves: each marker once.
    await file_holds(cluster, NAME, saved + offline, 10)
    await everyone_sees([bob], saved + offline, 5)
    assert cluster.on_disk(NAME) == bob.view()


async def test_a_change_made_outside_and_merged_is_not_merged_again_by_the_next_writer(
    cluster: Cluster,
) -> None:
    """No outage: the writer merges a change made to the file outside Jupyter (no save
    follows, the room holds what the file does), then stops; the next writer's record of the
    file is from before that change."""
    first, second = await cluster.start(2)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)  # the first server to open it writes the file
    bob = await cluster.open(second, NAME)
    outside = markers("o", 5)
    cluster.write_text(NAME, "start\n" + "".join(outside))  # an editor on the shared disk
    await everyone_sees([alice, bob], outside, 5)  # merged by the writer, shared live
    await first.terminate()  # a rolling restart: the writer stops, the second one takes over

    typed = markers("b", 5)
    type_interleaved((bob, typed))
    await file_holds(cluster, NAME, outside + typed, 10)
    await everyone_sees([bob], outside + typed, 5)
    assert cluster.on_disk(NAME) == bob.view()
