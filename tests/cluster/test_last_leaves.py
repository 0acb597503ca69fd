"""The writer dies, and the last other server with the document open lets it go (its last
user left) before the writer's lease ran out: nobody is left to take over. What the dead
writer had accepted must still reach the file: the server letting the room go makes sure a
writer saved it first, taking over itself when none answers.
"""

from __future__ import annotations

from .cluster import Cluster
from .markers import file_holds, markers, sees, type_interleaved

NAME = "notes.txt"
TTL = 3.0  # the lease: longer than the room's cleanup delay (0.5 s), as by default (5 s, 60 s)


async def test_a_room_let_go_while_its_writer_is_dead_is_saved_first(cluster: Cluster) -> None:
    # The writer saves 30 s after typing stops: it dies before that.
    (first,) = await cluster.start(1, save_delay=30.0, max_save_delay=60.0, cluster_lease_ttl=TTL)
    (second,) = await cluster.start(1, cluster_lease_ttl=TTL)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)  # the first server to open it writes the file
    bob = await cluster.open(second, NAME)
    unsaved = markers("a", 5)
    type_interleaved((alice, unsaved))
    await sees(bob, unsaved, 2, "Bob's view (other server) to show Alice's edits live")

    await cluster.sigkill(first)
    await bob.client.drop()  # Bob closes the tab: his server lets the room go 0.5 s later
    await file_holds(cluster, NAME, unsaved, 3 * TTL)
