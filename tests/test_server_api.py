"""Server-side code changes live documents without a websocket: ``app.rooms.apply_update`` and
``app.rooms.transaction``. Peers see the change, the file gets it, and the room opened for the
call is freed again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from pycrdt import Doc, Text

from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.errors import ServerStopping

from .client import wait_until
from .harness import Collab, append, cell_sources, sources_on_disk
from .servers import listen_to_session_events

NOTEBOOK = DocumentKind.parse("json", "notebook")


def notebook_room_id(jp_serverapp: ServerApp, path: str) -> str:
    file_id = jp_serverapp.web_app.settings["file_id_manager"].index(path)
    return f"json:notebook:{file_id}"


async def test_apply_update_reaches_every_peer_and_the_file(collab: Collab) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    alice = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    # Another process's replica of the room (an agent, another extension): edit and ship it.
    replica: Doc[Any] = Doc()
    replica.apply_update(collab.rooms[room_id].doc.get_update())
    before = replica.get_state()
    source = NOTEBOOK.wrap(replica).ycells[0]["source"]
    assert isinstance(source, Text)
    append(source, "  # from the server")

    await collab.extension.rooms.apply_update(room_id, replica.get_update(before))

    await alice.wait_for(
        lambda: cell_sources(alice.document) == ["a = 1  # from the server"], 5, "the update"
    )
    await wait_until(lambda: sources_on_disk(path) == ["a = 1  # from the server"], 10, "the save")


@pytest.mark.ycollab(cleanup_delay=0.3)
async def test_a_transaction_opens_the_room_merges_with_peers_and_frees_it(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    room_id = notebook_room_id(jp_serverapp, "nb.ipynb")
    assert room_id not in collab.rooms

    async with collab.extension.rooms.transaction(room_id) as notebook:
        assert room_id in collab.rooms  # opened for the call
        notebook.ycells[0]["source"].insert(0, "# reviewed\n")
        await asyncio.sleep(0)  # the block may await: it works on a private copy
        alice = await collab.open_notebook("nb.ipynb")  # a peer edits meanwhile
        append(alice.document.ycells[1]["source"], "0")
        await wait_until(
            lambda: cell_sources(collab.rooms[room_id].document.shared)[1] == "b = 20",
            5,
            "the peer's edit on the server",
        )

    expected = ["# reviewed\na = 1", "b = 20"]
    await alice.wait_for(lambda: cell_sources(alice.document) == expected, 5, "the change")
    await wait_until(lambda: sources_on_disk(path) == expected, 10, "the save")
    await alice.close()
    await wait_until(lambda: room_id not in collab.rooms, 10, "the room to be freed")


async def test_a_transaction_that_raises_changes_nothing(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    room_id = notebook_room_id(jp_serverapp, "nb.ipynb")
    with pytest.raises(RuntimeError, match="changed my mind"):
        async with collab.extension.rooms.transaction(room_id) as notebook:
            notebook.ycells[0]["source"].insert(0, "never ")
            raise RuntimeError("changed my mind")
    assert cell_sources(collab.rooms[room_id].document.shared) == ["a = 1"]


@pytest.mark.ycollab(cleanup_delay=0.3)
async def test_a_transaction_longer_than_the_cleanup_delay_still_reaches_the_file(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    """A block that awaits (an agent asking a model) past ``cleanup_delay`` on a room no peer
    has open: the room opened for the call was evicted and closed under it, and the change
    landed in the closed room's document, neither logged nor saved."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    room_id = notebook_room_id(jp_serverapp, "nb.ipynb")
    events = listen_to_session_events(jp_serverapp)
    async with collab.extension.rooms.transaction(room_id) as notebook:
        notebook.ycells[0]["source"].insert(0, "# reviewed\n")
        await wait_until(lambda: events.has("INFO", "clean"), 10, "the room evicted and closed")

    await wait_until(lambda: sources_on_disk(path) == ["# reviewed\na = 1"], 10, "the save")


async def test_a_transaction_that_ends_after_the_server_stopped_is_told_its_change_was_lost(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    """A block still awaiting (an agent asking a model) when the server stops: its room was
    flushed and closed meanwhile, and the change landed in the closed room's document, neither
    logged nor saved, while the block ended as if it had landed."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    room_id = notebook_room_id(jp_serverapp, "nb.ipynb")
    with pytest.raises(ServerStopping):
        async with collab.extension.rooms.transaction(room_id) as notebook:
            notebook.ycells[0]["source"].insert(0, "# reviewed\n")
            await jp_serverapp._cleanup()  # the server stops while the block awaits
    assert sources_on_disk(path) == ["a = 1"]


@pytest.mark.ycollab(cleanup_delay=0.3)
async def test_a_room_evicted_under_a_transaction_is_not_opened_again_by_a_stopped_server(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    """The same, when the room was evicted before the stop: the end of the block opened it again
    on the stopped server, where nothing would ever save or close it."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    room_id = notebook_room_id(jp_serverapp, "nb.ipynb")
    events = listen_to_session_events(jp_serverapp)
    with pytest.raises(ServerStopping):
        async with collab.extension.rooms.transaction(room_id) as notebook:
            notebook.ycells[0]["source"].insert(0, "# reviewed\n")
            await wait_until(lambda: events.has("INFO", "clean"), 10, "the room evicted")
            await jp_serverapp._cleanup()
    assert room_id not in collab.rooms, "a room opened on the stopped server"
    assert sources_on_disk(path) == ["a = 1"]
