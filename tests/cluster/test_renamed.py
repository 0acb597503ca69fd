"""A shared file renamed through Jupyter while people have it open on several servers: a room
is named in Redis by its file's path (docs/cluster.md), and servers on other machines have file
ids of their own, so the new name must lead to the room already open, and the old name, once a
new file takes it, to a room of its own. Otherwise someone opening the new name on a server
where the room is not open starts a second history of the same file: two writers, and nobody
sees the others' typing live. And the server that writes the file must find it at its new name
when the rename was made through another (jupyter_server_fileid's default manager follows only
the renames made through its own server), or its saves stop.
"""

from __future__ import annotations

import json

import pytest
import redis
from tornado.httpclient import AsyncHTTPClient

from jupyter_ycollab.cluster.keys import RoomKeys

from ..client import wait_until
from ..process import JupyterProcess
from .cluster import Cluster, Peer
from .markers import everyone_sees, file_holds, markers, sees, type_interleaved

OLD, NEW = "Untitled.txt", "analysis.txt"


async def rename(server: JupyterProcess, old: str, new: str) -> None:
    """Rename through Jupyter's contents API, as the file browser does."""
    await AsyncHTTPClient().fetch(
        f"{server.base_url}/api/contents/{old}",
        method="PATCH",
        headers=server.headers,
        body=json.dumps({"path": new}),
    )


async def renamed_for(cluster: Cluster, peers: list[Peer], old: str, new: str) -> None:
    """Every peer's document names ``new`` (the writer looked at the file: the front end
    renames the tab), and the room's state in Redis says so (a third of the lease later:
    docs/cluster.md, "Renames")."""

    def named() -> bool:
        return all(peer.client.document.ystate.get("path") == new for peer in peers)

    def recorded() -> bool:
        client = redis.Redis(port=cluster.redis.port)
        try:
            return client.hget(RoomKeys.of("", "text", "file", old).state, "path") == new.encode()
        finally:
            client.close()

    await wait_until(named, 10, f"every document to name {new}")
    await wait_until(recorded, 5, f"the room's state in Redis to name {new}")


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "contents"])
async def test_a_file_renamed_while_shared_is_one_room_under_its_new_name(
    cluster: Cluster, fast_path: bool
) -> None:
    first, second, third = await cluster.start(3, fast_path=fast_path)
    cluster.write_text(OLD, "start\n")
    alice = await cluster.open(first, OLD)  # her server opened it first: it writes the file
    bob = await cluster.open(second, OLD)
    await rename(second, OLD, NEW)
    await renamed_for(cluster, [alice, bob], OLD, NEW)

    carol = await cluster.open(third, NEW)  # a server where the room is not open
    typed = markers("a", 5) + markers("b", 5) + markers("c", 5)
    type_interleaved((alice, typed[:5]), (bob, typed[5:10]), (carol, typed[10:]))
    await everyone_sees([alice, bob, carol], typed, 5)
    await file_holds(cluster, NEW, typed, 5)
    assert cluster.on_disk(NEW) == carol.view() == alice.view()
    assert not cluster.path(OLD).exists()


async def test_a_new_file_under_a_shared_files_old_name_is_a_room_of_its_own(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2)
    cluster.write_text(OLD, "start\n")
    alice = await cluster.open(first, OLD)
    await rename(first, OLD, NEW)
    await renamed_for(cluster, [alice], OLD, NEW)

    cluster.write_text(OLD, "another file\n")  # JupyterLab's next new file takes the name
    dave = await cluster.open(second, OLD)
    assert dave.view() == "another file\n", f"Dave's new {OLD} shows {dave.view()!r}"
    alice.type("<alice>")
    dave.type("<dave>")
    await file_holds(cluster, NEW, ["<alice>"], 5)
    await file_holds(cluster, OLD, ["<dave>"], 5)
    await sees(alice, ["<alice>"], 1, "Alice's own typing")
    assert "<dave>" not in alice.view() and "<alice>" not in dave.view()
    assert "<dave>" not in cluster.on_disk(NEW) and "<alice>" not in cluster.on_disk(OLD)


async def test_a_user_a_load_balancer_moves_after_a_rename_finds_the_room(
    cluster: Cluster,
) -> None:
    """Her room id carries the first server's file id, which the third never issued: it finds
    the file through the cluster's record, at its new path."""
    first, second, third = await cluster.start(3)
    cluster.write_text(OLD, "start\n")
    alice = await cluster.open(first, OLD)
    bob = await cluster.open(second, OLD)
    await rename(second, OLD, NEW)
    await renamed_for(cluster, [alice, bob], OLD, NEW)

    await alice.client.close()
    await cluster.move(alice, third)  # the same room id and session id, on the third server
    alice.type("<moved>")
    await sees(bob, ["<moved>"], 5, "Bob to see the edit of Alice, moved to the third server")
    await file_holds(cluster, NEW, ["<moved>"], 5)
