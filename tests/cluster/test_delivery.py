"""Two people on two servers co-edit one file live: every edit reaches the other, once, and the
file ends up holding every edit once.

Live means through the cluster, not through the file: without a cluster, two servers sharing a
folder do converge slowly, each autosaving and merging the other's saves as outside changes. So
the two-server test turns autosave off (``save_delay`` 30 s) while people type: only the cluster
can carry an edit across, and within seconds. Then Ctrl-S writes the file.

The baseline (two people on ONE server of the cluster) proves the harness itself: servers start
with ``redis_url`` set, clients connect and sync, and one server delivers and saves.
"""

from __future__ import annotations

import asyncio

from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, type_interleaved, type_markers

EDITS = 50
NO_AUTOSAVE = {"save_delay": 30.0, "max_save_delay": 60.0}


async def test_two_people_on_one_server_see_each_other_and_the_file_is_saved(
    cluster: Cluster,
) -> None:
    (server,) = await cluster.start(1)
    cluster.write_text("notes.txt", "start\n")
    alice = await cluster.open(server, "notes.txt")
    bob = await cluster.open(server, "notes.txt")
    assert alice.view() == bob.view() == "start\n"

    ours, theirs = markers("a", EDITS), markers("b", EDITS)
    type_interleaved((alice, ours), (bob, theirs))
    await everyone_sees([alice, bob], ours + theirs, 10)
    await file_holds(cluster, "notes.txt", ours + theirs, 10)

    # Alice's tab loses its socket and comes back with the same ids (what ``move`` does).
    await alice.client.drop()
    alice.type("<offline>")
    await cluster.move(alice, server)
    await everyone_sees([alice, bob], [*ours, *theirs, "<offline>"], 5)


async def test_two_people_on_two_servers_see_every_edit_once_and_the_file_holds_each_once(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2, **NO_AUTOSAVE)
    cluster.write_text("notes.txt", "start\n")
    alice = await cluster.open(first, "notes.txt")
    bob = await cluster.open(second, "notes.txt")
    assert alice.view() == bob.view() == "start\n", "both servers load the same file"

    ours, theirs = markers("a", EDITS), markers("b", EDITS)
    # Both type at once, keystroke by keystroke: their edits cross on the wire.
    await asyncio.gather(type_markers(alice, ours), type_markers(bob, theirs))
    await everyone_sees([alice, bob], ours + theirs, 5)
    assert alice.view().count("start\n") == 1, "the file's text was loaded twice"

    # Ctrl-S on each side (one of them is not the server that writes the file).
    assert await bob.save(1) == "success"
    assert await alice.save(2) == "success"
    await file_holds(cluster, "notes.txt", ours + theirs, 5)
    assert cluster.on_disk("notes.txt") == alice.view(), "the file is not what everyone sees"
