"""Server-side changes in a shared room. A cell run with jupyter-server-nbmodel (a real ipykernel
kernel) on the server that does NOT write the file writes its outputs into its copy as server
code (not as a peer); the people on the other server see them live, and a Ctrl-S there has the
writer save them before it answers. A fork made on one server and merged back there: the
merge reaches the people on the other server. A cell that ends after the room of the server
running it closed: its outputs still reach the other server and the file."""

from __future__ import annotations

import json

from jupyter_ydoc import YNotebook
from pycrdt import Doc
from tornado.httpclient import AsyncHTTPClient

from ..client import CollabClient, wait_until
from ..harness import append, cell_sources, notebook_on_disk, sources_on_disk
from ..process import JupyterProcess
from ..test_nbmodel import (
    KERNEL_TIMEOUT,
    ran_to_its_end,
    ran_to_its_end_on_disk,
    stream_text,
    waiting_cell,
)
from .cluster import Cluster, Peer

NBMODEL = {"jupyter_server_nbmodel": True}
NO_AUTOSAVE = {"save_delay": 300.0, "max_save_delay": 600.0}


async def post(server: JupyterProcess, path: str, body: dict[str, object]) -> dict[str, object]:
    return await fetch_json(server, path, "POST", body)


async def shift_enter(peer: Peer, path: str) -> None:
    """Run the notebook's first cell in a kernel of the peer's own server: what the nbmodel
    front end sends when the peer presses Shift-Enter."""
    kernel = await post(peer.server, "api/kernels", {"name": "python3"})
    room_id = "json:notebook:{fileId}".format(**peer.session)
    cell = peer.client.document.get_cell(0)
    metadata = {"cell_id": cell["id"], "document_id": room_id, "document_path": path}
    body = {"code": cell["source"], "metadata": metadata}
    await post(peer.server, f"api/kernels/{kernel['id']}/execute", body)


def outputs_of(peer: Peer) -> str:
    return stream_text(peer.client.document.get_cell(0))


async def test_outputs_written_on_one_server_reach_the_other_and_the_file(
    cluster: Cluster,
) -> None:
    # No autosave while the kernel runs: only the cluster can carry the outputs across.
    writer, other = await cluster.start(2, extensions=NBMODEL, **NO_AUTOSAVE)
    cluster.write_notebook("run.ipynb", ["print('hello from a kernel')"])
    alice = await cluster.open(writer, "run.ipynb")  # the first to open it: the writer
    bob = await cluster.open(other, "run.ipynb")
    await shift_enter(bob, "run.ipynb")

    expected = "hello from a kernel\n"
    await wait_until(lambda: outputs_of(alice) == expected, KERNEL_TIMEOUT, "Alice to see it")
    # Bob's server runs the cell, yet his copy may come second: it publishes first, then relays.
    await wait_until(lambda: outputs_of(bob) == expected, 5, "Bob to see it")

    assert await bob.save(1) == "success"  # Ctrl-S on the server that does not write
    path = cluster.path("run.ipynb")

    def saved() -> bool:
        notebook = notebook_on_disk(path)
        return notebook is not None and stream_text(notebook["cells"][0]) == expected

    assert saved(), "Ctrl-S answered success before the file held the outputs"


async def test_a_cell_that_ends_after_its_room_closed_on_one_server_reaches_the_other(
    cluster: Cluster,
) -> None:
    """Bob runs a cell on the server that does not write the file and closes his tab: that
    server's room closes (``cleanup_delay``) while the cell runs. What jupyter-server-nbmodel
    writes when the cell ends is carried into the room opened again there, and reaches Alice,
    on the writer, and the file (docs/protocol.md 10.14)."""
    writer, other = await cluster.start(2, extensions=NBMODEL)
    go = cluster.base / "go"
    cluster.write_notebook("long.ipynb", [waiting_cell(go)])
    alice = await cluster.open(writer, "long.ipynb")
    bob = await cluster.open(other, "long.ipynb")
    await shift_enter(bob, "long.ipynb")
    await wait_until(lambda: outputs_of(alice) == "started\n", KERNEL_TIMEOUT, "the first output")

    await bob.client.drop()

    async def closed_on_bobs_server() -> bool:
        status = await fetch_json(other, "api/collaboration/status", "GET")
        return status["rooms"] == []

    await wait_until(closed_on_bobs_server, 10, "the room on Bob's server to close")
    go.touch()

    def alices_cell() -> dict[str, object]:
        return alice.client.document.get_cell(0)

    await wait_until(lambda: ran_to_its_end(alices_cell()), KERNEL_TIMEOUT, "the end at Alice's")
    path = cluster.path("long.ipynb")
    await wait_until(lambda: ran_to_its_end_on_disk(path), 10, "the end in the file")


async def fetch_json(
    server: JupyterProcess, path: str, method: str, body: dict[str, object] | None = None
) -> dict[str, object]:
    response = await AsyncHTTPClient().fetch(
        f"{server.base_url}/{path}",
        method=method,
        headers=server.headers,
        body=None if body is None else json.dumps(body),
    )
    answer: dict[str, object] = json.loads(response.body or b"{}")
    return answer


async def test_a_fork_made_and_merged_on_one_server_reaches_the_other(cluster: Cluster) -> None:
    writer, other = await cluster.start(2, **NO_AUTOSAVE)
    cluster.write_notebook("nb.ipynb", ["a = 1"])
    alice = await cluster.open(writer, "nb.ipynb")
    bob = await cluster.open(other, "nb.ipynb")
    root_id = "json:notebook:{fileId}".format(**bob.session)
    fork = await fetch_json(other, f"api/collaboration/fork/{root_id}", "PUT", {"title": "try"})
    fork_url = (
        f"ws://127.0.0.1:{other.port}/api/collaboration/room/{fork['fork_roomid']}"
        f"?sessionId={fork['sessionId']}"
    )
    suggester, reader = (CollabClient(YNotebook(Doc()), fork_url, other.headers) for _ in range(2))
    await suggester.sync(10)
    await reader.sync(10)
    append(suggester.document.ycells[0]["source"], "  # suggested")
    await reader.wait_for(
        lambda: cell_sources(reader.document) == ["a = 1  # suggested"], 5, "the fork's edit"
    )
    assert cell_sources(alice.client.document) == ["a = 1"], "a fork is edited apart"

    await fetch_json(other, f"api/collaboration/fork/{fork['fork_roomid']}?merge=true", "DELETE")
    merged = ["a = 1  # suggested"]
    await alice.client.wait_for(
        lambda: cell_sources(alice.client.document) == merged, 5, "the merge on the other server"
    )
    assert await alice.save(1) == "success"
    assert sources_on_disk(cluster.path("nb.ipynb")) == merged
