"""A file deleted while its room is open on several servers: jupyter-docprovider 3.1 shows its
notice ("The file ... was deleted from disk") on every page, whichever server the page is on,
and takes it away on every page once the file is back (docs/protocol.md section 5). Only the
server that writes the file looks at it: it tells the others through the room's stream
(cluster/saves.py); before, the pages of the other servers were never told."""

from __future__ import annotations

from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Doc

from ..client import CollabClient, wait_until
from .cluster import Cluster, Peer, connect

DELETED = {"originalPath": "nb.ipynb", "reason": "deleted"}


def file_statuses(peer: Peer) -> list[Any]:
    """The "external-change" statuses ``peer`` was sent, in order."""
    raw = peer.client.received.raw
    return [message["change"] for message in raw if message.get("type") == "external-change"]


async def told(peers: list[Peer], statuses: list[Any], what: str) -> None:
    for peer in peers:
        await wait_until(
            lambda p=peer: file_statuses(p) == statuses, 10, f"{what}, on port {peer.server.port}"
        )


async def page_back(cluster: Cluster, page: Peer) -> Peer:
    """``page`` back on its server with a fresh socket and the same session, as the front end
    reconnects."""
    client = CollabClient(YNotebook(Doc()), page.server.room_url(page.session), page.server.headers)
    back = Peer(client, page.server, page.session)
    cluster.peers.append(back)
    await connect(back)
    return back


async def test_every_servers_pages_are_told_the_file_went_and_came_back(cluster: Cluster) -> None:
    first, second = await cluster.start(2)
    cluster.write_notebook("nb.ipynb", ["a = 1"])
    alice = await cluster.open(first, "nb.ipynb")  # the first to open writes the file
    bob = await cluster.open(second, "nb.ipynb")
    await told([alice, bob], [None], "no notice at the join")

    cluster.path("nb.ipynb").unlink()
    await told([alice, bob], [None, DELETED], "the notice")

    # A page back on the server that does not write the file (its socket dropped, the front
    # end reconnects with the same session): the notice holds there too.
    back = await page_back(cluster, bob)
    assert file_statuses(back) == [DELETED]

    cluster.write_notebook("nb.ipynb", ["a = 1"])
    await told([alice, bob], [None, DELETED, None], "the notice taken away")
    await told([back], [DELETED, None], "the notice taken away")


async def test_a_server_that_opens_the_room_again_while_the_file_is_gone_tells_its_pages(
    cluster: Cluster,
) -> None:
    """The room closed on the server that does not write the file (its last page left) and a
    page comes back there while the file is still gone: that server joins the room again, and
    hears the writer's word from the stream it replays (cluster/shared.py ``attach``)."""
    first, second = await cluster.start(2)
    cluster.write_notebook("nb.ipynb", ["a = 1"])
    alice = await cluster.open(first, "nb.ipynb")  # the first to open writes the file
    bob = await cluster.open(second, "nb.ipynb")
    cluster.path("nb.ipynb").unlink()
    await told([alice, bob], [None, DELETED], "the notice")

    await bob.client.close()

    async def room_closed() -> bool:
        return await second.open_documents() == []

    await wait_until(room_closed, 10, "the room to close on the second server")
    back = await page_back(cluster, bob)
    assert file_statuses(back) == [DELETED]

    cluster.write_notebook("nb.ipynb", ["a = 1"])
    await told([back], [DELETED, None], "the notice taken away")
