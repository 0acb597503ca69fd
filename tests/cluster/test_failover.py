"""A server dies: its users reconnect to another server with their old session and room ids
(the room id names the dead server's file id: the cluster must resolve it, never a 404), and
nothing anyone saw is lost or doubled. A late joiner on another server gets the unsaved edits
and an outside change to the file, once each.

Autosave is off while people type (``save_delay`` 30 s), so that only the cluster can carry an
edit from one server to the other (not the file: see test_delivery.py); Ctrl-S writes the file.
"""

from __future__ import annotations

import asyncio

from ..process import run_cancelled
from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, sees, type_interleaved, type_markers

NAME = "notes.txt"
NO_AUTOSAVE = {"save_delay": 30.0, "max_save_delay": 60.0}


async def test_a_room_id_from_another_servers_file_ids_is_resolved(cluster: Cluster) -> None:
    """The load balancer sends a user to another server than the one that gave her the room
    id: that server finds the room by the file's path (no 404), in the same session."""
    first, second = await cluster.start(2)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)
    await alice.client.close()
    await cluster.move(alice, second)  # Alice's room id and session id, on the second server
    alice.type("<moved>")
    await sees(bob, ["<moved>"], 5, "Bob to see the edit of Alice, moved to his server")


async def test_a_user_whose_server_dies_goes_on_elsewhere_and_nothing_is_lost(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2, **NO_AUTOSAVE)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)
    ours, theirs = markers("a", 40), markers("b", 40)
    typing = [
        asyncio.ensure_future(type_markers(alice, ours)),
        asyncio.ensure_future(type_markers(bob, theirs)),
    ]
    try:
        await sees(bob, ours[:10], 5, "Bob (other server) to see Alice's first edits live")
        await cluster.sigkill(first)  # both are still typing
        acknowledged = [marker for marker in ours if marker in bob.view()]
        await cluster.move(alice, second)  # the front end's reconnection, same ids
        await asyncio.gather(*typing)
    finally:
        await run_cancelled(typing)

    await everyone_sees([alice, bob], ours + theirs, 5)
    assert all(bob.view().count(marker) == 1 for marker in acknowledged)
    assert await bob.save(1) == "success"
    await file_holds(cluster, NAME, ours + theirs, 5)
    assert cluster.on_disk(NAME) == bob.view()


async def test_a_late_joiner_gets_unsaved_edits_and_an_outside_change_once_each(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2, **NO_AUTOSAVE)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    watcher = await cluster.open(first, NAME)  # on Alice's server: her edits were accepted
    unsaved = markers("a", 20)
    type_interleaved((alice, unsaved))
    await sees(watcher, unsaved, 5, "Alice's edits on her own server")

    # Someone changes the file outside Jupyter, then Bob opens it on the other server.
    cluster.write_text(NAME, "start\n<outside>\n")
    bob = await cluster.open(second, NAME)

    expected = [*unsaved, "<outside>"]
    await everyone_sees([alice, watcher, bob], expected, 5)
    assert bob.view().count("start\n") == 1, f"the file was loaded twice: {bob.view()!r}"
    assert await bob.save(1) == "success"
    await file_holds(cluster, NAME, expected, 5)
    assert cluster.on_disk(NAME).count("start\n") == 1
