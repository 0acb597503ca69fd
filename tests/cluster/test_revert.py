"""File > Revert to Checkpoint in a cluster: on whichever server it is asked, the restored file
becomes the document on every server, unsaved edits dropped, as on a single server
(web/checkpoints.py). The server that writes the file carries it out, asked through the room's
stream (cluster/saves.py): merged there as an outside change, it kept the unsaved edits."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import AsyncHTTPClient

from ..client import wait_until
from ..process import JupyterProcess
from .cluster import Cluster, Peer

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0}


async def checkpoints(server: JupyterProcess, path: str, *more: str) -> bytes:
    """POST to the contents API's checkpoints of ``path``, as JupyterLab does: with no more,
    make one (after a Ctrl-S); with an id, restore it (File > Revert to Checkpoint)."""
    url = "/".join((f"{server.base_url}/api/contents/{path}/checkpoints", *more))
    response = await AsyncHTTPClient().fetch(url, method="POST", body="", headers=server.headers)
    return response.body


async def shows(peers: list[Peer], view: str) -> None:
    for peer in peers:
        await wait_until(
            lambda p=peer: p.view() == view, 10, f"{view!r} on port {peer.server.port}"
        )


@pytest.mark.parametrize("asked_on", ["the-writer", "another-server"])
async def test_a_restored_checkpoint_is_the_document_on_every_server(
    cluster: Cluster, asked_on: str
) -> None:
    first, second = await cluster.start(2, **UNSAVED)
    cluster.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    alice = await cluster.open(first, "nb.ipynb")  # the first to open writes the file
    bob = await cluster.open(second, "nb.ipynb")
    checkpoint = json.loads(await checkpoints(second, "nb.ipynb"))["id"]
    alice.type("0")
    assert await bob.save(1) == "success"
    assert cluster.on_disk("nb.ipynb") == "a = 10\nb = 2"
    bob.type("0", cell=1)  # unsaved, to be dropped
    await shows([alice, bob], "a = 10\nb = 20")

    await checkpoints(first if asked_on == "the-writer" else second, "nb.ipynb", checkpoint)

    await shows([alice, bob], "a = 1\nb = 2")
    assert cluster.on_disk("nb.ipynb") == "a = 1\nb = 2"
