"""Redis comes back empty while a document is open on one server, and another server opens the
document before the first one shared its copy again (here the first is paused for that moment:
a race of half a second otherwise). The second server starts another history from the file;
the first one's edits, typed before and while it was paused, must reach that history once, and
its users must be told to reload (their session is gone), then see everything, as the file
holds it.
"""

from __future__ import annotations

import asyncio
import json
import signal

import pytest
import redis
from pycrdt import Text, get_state

from jupyter_ycollab.cluster.keys import RoomKeys

from ..client import wait_until
from .cluster import Cluster, Peer
from .markers import everyone_sees, file_holds, markers, sees, type_interleaved


def type_at_start(peer: Peer, text: str) -> None:
    """Type at the very start of the document (an item with no left neighbour: in another
    history, it would apply as it is, and appear twice once carried)."""
    document = peer.client.document
    if peer.is_notebook:
        document.ycells[0]["source"].insert(0, text)
    else:
        document.ydoc.get("source", type=Text).insert(0, text)


async def told_to_reload(peer: Peer) -> None:
    """The front end's "session expired" dialog: close code 1003, reloadable, unknown_session."""
    await wait_until(lambda: peer.client.close_code is not None, 20, "the first server to close")
    assert peer.client.close_code == 1003, peer.client.close_reason
    reason = json.loads(peer.client.close_reason or "{}")
    assert reason["reason"] == "unknown_session" and reason["reloadable"] is True


def clients_in(update: bytes) -> set[int]:
    """The client ids whose items ``update`` holds: its state vector, decoded (lib0 varints:
    a count, then client and clock pairs)."""
    numbers, number, shift = [], 0, 0
    for byte in get_state(update):
        number |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            numbers.append(number)
            number, shift = 0, 0
    return set(numbers[1::2])


def clients_in_redis(cluster: Cluster, name: str) -> set[int]:
    """Every client whose items the cluster's copy of ``name`` holds (snapshot and stream)."""
    kind = ("json", "notebook") if name.endswith(".ipynb") else ("text", "file")
    keys = RoomKeys.of("", *kind, name)
    client = redis.Redis(port=cluster.redis.port)
    try:
        updates = [client.hget(keys.state, "snapshot") or b"\x00\x00"]
        updates += [fields[b"u"] for _, fields in client.xrange(keys.updates) if b"u" in fields]
    finally:
        client.close()
    return set().union(*(clients_in(update) for update in updates))


@pytest.mark.parametrize("name", ["notes.txt", "notes.ipynb"])
async def test_a_room_opened_elsewhere_while_redis_came_back_empty_is_one_document(
    cluster: Cluster, name: str
) -> None:
    first, second = await cluster.start(2)
    if name.endswith(".ipynb"):
        cluster.write_notebook(name, ["start"])
    else:
        cluster.write_text(name, "start\n")
    alice = await cluster.open(first, name)
    saved = markers("a", 5)
    type_interleaved((alice, saved))
    await file_holds(cluster, name, saved, 5)
    unsaved = markers("u", 3)  # the first server has them, the file may not yet
    type_interleaved((alice, unsaved))

    assert first.process is not None
    first.process.send_signal(signal.SIGSTOP)
    paused = markers("p", 3)  # reach the first server as it wakes, before it levels
    try:
        cluster.redis.kill()
        cluster.redis.start()  # same port, empty
        carol = await cluster.open(second, name)  # before the first server shares it again
        for marker in paused:
            type_at_start(alice, marker)
    finally:
        first.process.send_signal(signal.SIGCONT)

    await told_to_reload(alice)
    first_client = alice.client.client_id  # its items are of the first history only
    alice = await cluster.open(first, name)  # the reload: a new session, the cluster's history
    carried = saved + unsaved + paused
    await everyone_sees([alice, carol], carried, 10)

    typed_a, typed_c = markers("x", 5), markers("c", 5)
    type_interleaved((alice, typed_a), (carol, typed_c))
    everything = carried + typed_a + typed_c
    await everyone_sees([alice, carol], everything, 10)
    await file_holds(cluster, name, everything, 10)
    assert first_client not in clients_in_redis(cluster, name)  # carried, never mixed in


async def test_two_servers_holding_the_old_history_carry_its_edits_once(cluster: Cluster) -> None:
    """Both servers that held the room carry its unsaved edits over as Redis answers again, at
    once: what both hold must land once, what only one of them accepted (while Redis was down)
    must land too, and what the writer saved after the other joined (the other's base is
    older) must not land a second time."""
    first, second, third = await cluster.start(3, save_delay=30.0, max_save_delay=60.0)
    name = "notes.txt"
    cluster.write_text(name, "start\n")
    alice, dave = await cluster.open(first, name), await cluster.open(third, name)
    saved = markers("s", 2)  # the file moves on from where the history began (its name)
    type_interleaved((alice, saved))
    await everyone_sees([alice, dave], saved, 10)
    assert await alice.save(1) == "success"
    both = markers("b", 4)  # typed on both servers' copies, not saved
    type_interleaved((alice, both[:2]), (dave, both[2:]))
    await everyone_sees([alice, dave], saved + both, 10)

    holders = [server.process for server in (first, third)]
    cluster.redis.kill()
    alone_a, alone_d = markers("a", 3), markers("d", 3)  # each server's own, Redis down
    type_interleaved((alice, alone_a), (dave, alone_d))
    await sees(alice, alone_a, 5, "Alice's server to accept her edits with Redis down")
    await sees(dave, alone_d, 5, "Dave's server to accept his edits with Redis down")
    for process in holders:
        assert process is not None
        process.send_signal(signal.SIGSTOP)
    try:
        cluster.redis.start()  # same port, empty
        carol = await cluster.open(second, name)
    finally:
        for process in holders:
            assert process is not None
            process.send_signal(signal.SIGCONT)

    await asyncio.gather(told_to_reload(alice), told_to_reload(dave))
    alice, dave = await cluster.open(first, name), await cluster.open(third, name)
    everything = saved + both + alone_a + alone_d
    await everyone_sees([alice, carol, dave], everything, 10)
    assert await carol.save(2) == "success"
    await file_holds(cluster, name, everything, 5)
