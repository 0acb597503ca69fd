"""A peer writes the document's ``state.hash`` (the hash of the file as a server saved it, which
the next writer of a shared file trusts as "our own save", watch.py ``_saved_from_doc``). Set to
the hash of a change made outside Jupyter that no server merged yet, it made the next writer take
that change for the base: its save then wrote the room's content over it, the change was lost.
"""

from __future__ import annotations

import json

import pytest
from pycrdt import Map
from tornado.httpclient import AsyncHTTPClient

from .cluster import Cluster, Peer
from .markers import file_holds, markers, sees, type_interleaved

NAME = "notes.txt"


async def hash_from_the_contents_api(peer: Peer) -> str:
    """The file's hash, as any user may ask it of Jupyter (``GET /api/contents?hash=1``)."""
    server = peer.server
    url = f"{server.base_url}/api/contents/{NAME}?content=0&hash=1"
    response = await AsyncHTTPClient().fetch(url, headers=server.headers)
    return str(json.loads(response.body)["hash"])


@pytest.mark.parametrize(
    "writer_peer", [True, False], ids=["peer-of-writer", "peer-of-next-writer"]
)
async def test_a_hash_a_peer_wrote_does_not_make_the_next_writer_drop_an_outside_change(
    cluster: Cluster, writer_peer: bool
) -> None:
    # No polling, and autosave 3 s after typing stops: the outside change waits for the next
    # look at the file, the takeover's (the writer dies before saving what the peer typed).
    first, second = await cluster.start(2, poll_interval=3600.0, save_delay=3.0, max_save_delay=6.0)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)  # the first server to open it writes the file
    bob = await cluster.open(second, NAME)
    outside = markers("o", 3)
    cluster.write_text(NAME, "start\n" + "".join(outside))  # an editor on the shared disk

    peer = alice if writer_peer else bob
    outside_hash = await hash_from_the_contents_api(peer)
    peer.client.document.ydoc.get("state", type=Map)["hash"] = outside_hash
    sent = markers("s", 1)
    type_interleaved((peer, sent))  # after the hash: seen once everything before it arrived
    await sees(bob, sent, 5, "the peer's update on the second server")
    await sees(alice, sent, 5, "the peer's update on the first server")
    await cluster.sigkill(first)  # the second server takes over writing the file

    typed = markers("b", 3)
    type_interleaved((bob, typed))
    await file_holds(cluster, NAME, outside + sent + typed, 10)
